//! XOR: Xavier solves it for every seed; under the zero start the hidden units stay clones.

use std::ops::ControlFlow;

use initlab::nn::{Activation, Init, Loss, Mlp, Sgd, Split, TargetsView, TrainConfig, train};
use ndarray::array;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn run(init: &Init, seed: u64, epochs: usize) -> (Mlp<f32>, initlab::nn::History) {
    let x = array![[0.0_f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = [0usize, 1, 1, 0];
    let mut mlp = Mlp::<f32>::new(&[2, 4, 1], &[Activation::Tanh], Loss::BinaryCrossEntropy);
    mlp.initialize(init, None, seed);
    let config = TrainConfig {
        epochs,
        batch_size: 4,
        log_every: 100,
        threads: 1,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let history = train(
        &mut mlp,
        &mut Sgd::new(0.5),
        Split {
            x: x.view(),
            targets: TargetsView::Classes(&y),
        },
        None,
        &config,
        &mut rng,
        None,
        |_| ControlFlow::Continue(()),
    );
    (mlp, history)
}

#[test]
fn xavier_reaches_full_accuracy_for_five_seeds() {
    for seed in 0..5 {
        let (_, history) = run(
            &"xavier-uniform:gain=1".parse::<Init>().unwrap(),
            seed,
            3000,
        );
        let last = history.records.last().unwrap();
        assert_eq!(last.train_accuracy, Some(1.0), "seed {seed}: {last:?}");
        assert!(last.train_loss < 0.05, "seed {seed}: {last:?}");
        assert!(history.diverged_at.is_none());
    }
}

#[test]
fn zero_start_keeps_hidden_units_identical() {
    let (mlp, history) = run(&"zeros".parse::<Init>().unwrap(), 0, 2000);
    let w = &mlp.layers[0].weight;
    for r in 1..w.nrows() {
        assert_eq!(w.row(r), w.row(0), "hidden unit {r} differs from unit 0");
        assert_eq!(mlp.layers[0].bias[r], mlp.layers[0].bias[0]);
    }
    let out = &mlp.layers[1].weight;
    assert!(out.iter().all(|v| *v == out[[0, 0]]));
    // With identical hidden units the net is no better than chance on XOR.
    let last = history.records.last().unwrap();
    assert!(last.train_accuracy.unwrap() <= 0.75, "{last:?}");
}

#[test]
fn epoch_zero_is_the_untrained_network_and_logs_follow_the_interval() {
    let (_, history) = run(&"zeros".parse::<Init>().unwrap(), 0, 250);
    let epochs: Vec<_> = history.records.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs, vec![0, 100, 200, 250]);
    // Zero weights: every logit is 0, so the loss is ln 2.
    assert!((history.records[0].train_loss - 2f64.ln()).abs() < 1e-7);
    assert_eq!(history.steps, 250);
}

#[test]
fn huge_learning_rate_diverges_and_stops() {
    let x = array![[0.0_f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0_f32], [1e30], [1e30], [0.0]];
    let mut mlp = Mlp::<f32>::new(&[2, 4, 1], &[Activation::Relu], Loss::Mse);
    mlp.initialize(
        &"he-normal:mode=fan_in:slope=0".parse::<Init>().unwrap(),
        None,
        3,
    );
    let config = TrainConfig {
        epochs: 1000,
        batch_size: 4,
        log_every: 10,
        threads: 1,
    };
    let history = train(
        &mut mlp,
        &mut Sgd::new(10.0),
        Split {
            x: x.view(),
            targets: TargetsView::Values(y.view()),
        },
        None,
        &config,
        &mut ChaCha8Rng::seed_from_u64(0),
        None,
        |_| ControlFlow::Continue(()),
    );
    let at = history.diverged_at.expect("must diverge");
    let last = history.records.last().unwrap();
    assert!(last.diverged && last.epoch == at);
    assert!(at < 1000);
}
