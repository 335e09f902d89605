//! `update_ratio` in `layers.csv` is the step the optimizer actually took:
//! std(W_after − W_before) / std(W_before) for the last step before a checkpoint, momentum
//! and weight decay included. Checked against SGD with momentum written out by hand.

use std::ops::ControlFlow;

use initlab::experiment::stats::Probe;
use initlab::nn::{
    Activation, Gradients, Init, Loss, Mlp, Sgd, Split, TargetsView, TrainConfig, Workspace, train,
};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Population standard deviation, two passes.
fn std(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

#[test]
fn update_ratio_is_the_step_taken_under_momentum_and_weight_decay() {
    let (lr, momentum, decay) = (0.1, 0.9, 0.05);
    let x = Array2::from_shape_fn((12, 3), |(i, j)| ((i * 5 + j * 7) % 13) as f64 / 6.5 - 1.0);
    let labels: Vec<usize> = (0..12).map(|i| i % 3).collect();
    let mut mlp = Mlp::<f64>::new(&[3, 6, 3], &[Activation::Tanh], Loss::SoftmaxCrossEntropy);
    mlp.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 4);
    let start = mlp.clone();

    // The training loop, with the probe measuring at every epoch.
    let mut probe = Probe::new(&mlp, x.view(), TargetsView::Classes(&labels));
    let mut measured: Vec<Vec<Option<f64>>> = Vec::new();
    let config = TrainConfig {
        epochs: 4,
        batch_size: 12,
        log_every: 1,
        threads: 1,
    };
    train(
        &mut mlp,
        &mut Sgd::with(lr, momentum, decay),
        Split {
            x: x.view(),
            targets: TargetsView::Classes(&labels),
        },
        None,
        &config,
        &mut ChaCha8Rng::seed_from_u64(0),
        None,
        |cp| {
            let stats = probe.measure(cp.model, cp.weights_before_step, cp.record.epoch);
            measured.push(stats.iter().map(|s| s.update_ratio).collect());
            ControlFlow::Continue(())
        },
    );
    assert_eq!(measured.len(), 5);
    assert_eq!(measured[0], vec![None, None], "epoch 0 takes no step");

    // The same steps by hand, weights and biases: g ← g + λw; v ← μv + g; w ← w − lr·v.
    let step = |w: &mut [f64], g: &[f64], v: &mut [f64]| -> Vec<f64> {
        let mut taken = Vec::new();
        for k in 0..w.len() {
            v[k] = momentum * v[k] + g[k] + decay * w[k];
            let after = w[k] - lr * v[k];
            taken.push(after - w[k]);
            w[k] = after;
        }
        taken
    };
    let mut w = start;
    let mut velocity = Gradients::zeros_like(&w);
    let mut ws = Workspace::new(&w, 12);
    let mut grads = Gradients::zeros_like(&w);
    let mut momentum_mattered = false;
    for (epoch, measured) in measured.iter().enumerate().skip(1) {
        w.loss_and_gradients(x.view(), TargetsView::Classes(&labels), &mut ws, &mut grads);
        let layers = w
            .layers
            .iter_mut()
            .zip(&grads.layers)
            .zip(&mut velocity.layers);
        for (l, ((layer, grad), v)) in layers.enumerate() {
            let before: Vec<f64> = layer.weight.iter().copied().collect();
            let taken = step(
                layer.weight.as_slice_mut().unwrap(),
                grad.weight.as_slice().unwrap(),
                v.weight.as_slice_mut().unwrap(),
            );
            step(
                layer.bias.as_slice_mut().unwrap(),
                grad.bias.as_slice().unwrap(),
                v.bias.as_slice_mut().unwrap(),
            );
            let expected = std(&taken) / std(&before);
            let got = measured[l].expect("a step was taken");
            assert!(
                (got - expected).abs() <= 1e-9 * expected,
                "epoch {epoch} layer {}: update ratio {got} vs {expected} by hand",
                l + 1
            );
            // The old definition, lr·std(g)/std(W), is a different number under momentum.
            let g: Vec<f64> = grad.weight.iter().copied().collect();
            let plain = lr * std(&g) / std(&before);
            momentum_mattered |= (plain - expected).abs() > 0.1 * expected;
        }
    }
    assert!(
        momentum_mattered,
        "the test must tell the step from lr·std(g)"
    );
}
