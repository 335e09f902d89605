//! Central finite differences in f64 against backprop, for every activation × every loss ×
//! 1, 2 and 3 hidden layers (the CS231n `gradient_check.py` method), through the library's
//! [`initlab::nn::gradcheck::check_mlp`].

use initlab::nn::activation::ALL_ACTIVATIONS;
use initlab::nn::gradcheck::check_mlp;
use initlab::nn::loss::ALL_LOSSES;
use initlab::nn::{Activation, Gradients, Init, Loss, Mlp, TargetsView, Workspace};
use ndarray::{Array2, array};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn check(activation: Activation, loss: Loss, hidden: &[usize], seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let inputs = 3;
    let rows = 5;
    let (outputs, labels, values) = match loss {
        Loss::SoftmaxCrossEntropy => (3, (0..rows).map(|i| i % 3).collect::<Vec<_>>(), None),
        Loss::BinaryCrossEntropy => (1, (0..rows).map(|i| i % 2).collect(), None),
        Loss::Mse | Loss::SigmoidMse => {
            let v = Array2::from_shape_fn((rows, 2), |_| rng.random::<f64>());
            (2, vec![], Some(v))
        }
    };
    let targets = match &values {
        Some(v) => TargetsView::Values(v.view()),
        None => TargetsView::Classes(&labels),
    };
    let mut sizes = vec![inputs];
    sizes.extend_from_slice(hidden);
    sizes.push(outputs);
    let mut mlp = Mlp::<f64>::new(&sizes, &vec![activation; hidden.len()], loss);
    mlp.initialize(
        &"normal:mean=0:std=0.8".parse::<Init>().unwrap(),
        Some(&"normal:mean=0.1:std=0.3".parse::<Init>().unwrap()),
        seed,
    );
    let x = Array2::from_shape_fn((rows, inputs), |_| rng.random::<f64>() * 2.0 - 1.0);

    let mut ws = Workspace::new(&mlp, rows);
    let mut grads = Gradients::zeros_like(&mlp);
    let before = mlp.clone();
    mlp.loss_and_gradients(x.view(), targets, &mut ws, &mut grads);
    assert_eq!(mlp, before, "backprop must not change any weight");

    // The library's check (initlab::nn::gradcheck), as a course would use it.
    let report = check_mlp(&mlp, x.view(), targets);
    for t in &report.tensors {
        assert!(
            t.relative < 1e-6 && t.max_abs < 1e-7,
            "{activation} / {loss} / hidden {hidden:?}: {}: relative error {:e}, max abs {:e}",
            t.name,
            t.relative,
            t.max_abs
        );
    }
    assert_eq!(report.tensors.len(), 2 * mlp.layers.len());
}

#[test]
fn backprop_matches_finite_differences_everywhere() {
    for (a, &activation) in ALL_ACTIVATIONS.iter().enumerate() {
        for (b, &loss) in ALL_LOSSES.iter().enumerate() {
            for (c, hidden) in [vec![4], vec![4, 3], vec![3, 4, 3]].iter().enumerate() {
                check(activation, loss, hidden, (a * 100 + b * 10 + c) as u64 + 7);
            }
        }
    }
}

#[test]
fn forward_with_constant_weights_matches_hand_computation() {
    // 2-2-1, tanh hidden, all weights 0.5, biases 0.1 (hidden) and -0.2 (output).
    let mut mlp = Mlp::<f64>::new(&[2, 2, 1], &[Activation::Tanh], Loss::BinaryCrossEntropy);
    mlp.layers[0].weight.fill(0.5);
    mlp.layers[0].bias.fill(0.1);
    mlp.layers[1].weight.fill(0.5);
    mlp.layers[1].bias.fill(-0.2);
    let x = array![[1.0, 2.0], [0.0, -1.0]];
    let mut ws = Workspace::new(&mlp, 2);
    let logits = mlp.forward(x.view(), &mut ws).to_owned();
    // Row 1: z1 = 0.5·1 + 0.5·2 + 0.1 = 1.6, a1 = tanh 1.6 = 0.921668554...
    //        z2 = 0.5·a1·2 − 0.2 = a1 − 0.2 = 0.721668554...
    // Row 2: z1 = −0.5 + 0.1 = −0.4, a1 = tanh(−0.4) = −0.379948962...
    //        z2 = a1 − 0.2 = −0.579948962...
    let expected = [
        0.921_668_554_406_470_4 - 0.2,
        -0.379_948_962_255_224_6 - 0.2,
    ];
    for (got, want) in logits.iter().zip(expected) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
    // BCE with labels [1, 0]: ln(1+e^-z) and ln(1+e^z).
    let loss = mlp
        .loss
        .evaluate(logits.view(), TargetsView::Classes(&[1, 0]), None, 1.0)
        / 2.0;
    let direct = ((1.0 + (-expected[0]).exp()).ln() + (1.0 + expected[1].exp()).ln()) / 2.0;
    assert!((loss - direct).abs() < 1e-15);
}
