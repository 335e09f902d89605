//! The optimizer is the only writer of weights, with PyTorch's update rule.

use initlab::nn::{Activation, Gradients, Init, Loss, Mlp, Sgd};

fn net() -> (Mlp<f32>, Gradients<f32>) {
    let mut mlp = Mlp::<f32>::new(&[3, 4, 2], &[Activation::Tanh], Loss::SoftmaxCrossEntropy);
    mlp.initialize(&"xavier-normal:gain=1".parse::<Init>().unwrap(), None, 1);
    let mut grads = Gradients::zeros_like(&mlp);
    let mut other = mlp.clone();
    other.initialize(
        &"normal:mean=0:std=1".parse::<Init>().unwrap(),
        Some(&"normal:mean=0:std=1".parse::<Init>().unwrap()),
        99,
    );
    for (g, o) in grads.layers.iter_mut().zip(&other.layers) {
        g.weight.assign(&o.weight);
        g.bias.assign(&o.bias);
    }
    (mlp, grads)
}

#[test]
fn one_plain_step_is_exactly_w_minus_lr_g() {
    let (mut mlp, grads) = net();
    let before = mlp.clone();
    let lr = 0.37_f32;
    Sgd::new(lr as f64).step(&mut mlp, &grads);
    for ((after, before), g) in mlp.layers.iter().zip(&before.layers).zip(&grads.layers) {
        for ((a, b), g) in after.weight.iter().zip(&before.weight).zip(&g.weight) {
            assert_eq!(*a, b - lr * g);
        }
        for ((a, b), g) in after.bias.iter().zip(&before.bias).zip(&g.bias) {
            assert_eq!(*a, b - lr * g);
        }
    }
}

#[test]
fn momentum_matches_hand_computed_two_steps() {
    // One parameter, w0 = 1, g1 = 0.5, g2 = -0.25, lr = 0.1, μ = 0.9, no decay:
    // v1 = g1 = 0.5, w1 = 1 − 0.05 = 0.95
    // v2 = 0.9·0.5 − 0.25 = 0.2, w2 = 0.95 − 0.02 = 0.93
    let mut mlp = Mlp::<f64>::new(&[1, 1], &[], Loss::Mse);
    mlp.layers[0].weight.fill(1.0);
    let mut grads = Gradients::zeros_like(&mlp);
    let mut sgd = Sgd::with(0.1, 0.9, 0.0);
    grads.layers[0].weight.fill(0.5);
    sgd.step(&mut mlp, &grads);
    assert!((mlp.layers[0].weight[[0, 0]] - 0.95).abs() < 1e-15);
    grads.layers[0].weight.fill(-0.25);
    sgd.step(&mut mlp, &grads);
    assert!((mlp.layers[0].weight[[0, 0]] - 0.93).abs() < 1e-15);
    // Bias: gradient 0 both times, stays 0.
    assert_eq!(mlp.layers[0].bias[0], 0.0);
}

#[test]
fn weight_decay_adds_l2_gradient() {
    // w = 2, g = 0, wd = 0.1, lr = 0.5: w ← 2 − 0.5·(0 + 0.2) = 1.9
    let mut mlp = Mlp::<f64>::new(&[1, 1], &[], Loss::Mse);
    mlp.layers[0].weight.fill(2.0);
    let grads = Gradients::zeros_like(&mlp);
    Sgd::with(0.5, 0.0, 0.1).step(&mut mlp, &grads);
    assert!((mlp.layers[0].weight[[0, 0]] - 1.9).abs() < 1e-15);
}
