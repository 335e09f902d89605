//! The reference backprop (`Dense::forward`/`backward`, `Mlp::reference_gradients`) is the
//! specification of the fused fast path training uses: on random networks, for every
//! activation × loss × 1–3 hidden layers, in f64, both give the same loss and gradients to
//! rounding. The reference itself is checked against central finite differences.

use initlab::nn::activation::ALL_ACTIVATIONS;
use initlab::nn::loss::ALL_LOSSES;
use initlab::nn::{Activation, Gradients, Init, Loss, Mlp, TargetsView, Workspace};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Inputs and targets (labels or values) for `loss`.
struct Batch {
    x: Array2<f64>,
    labels: Vec<usize>,
    values: Option<Array2<f64>>,
    outputs: usize,
}

impl Batch {
    fn new(loss: Loss, rows: usize, inputs: usize, rng: &mut ChaCha8Rng) -> Self {
        let x = Array2::from_shape_fn((rows, inputs), |_| rng.random::<f64>() * 2.0 - 1.0);
        let (outputs, labels, values) = match loss {
            Loss::SoftmaxCrossEntropy => (4, (0..rows).map(|i| i % 4).collect(), None),
            Loss::BinaryCrossEntropy => (1, (0..rows).map(|i| i % 2).collect(), None),
            Loss::Mse | Loss::SigmoidMse => {
                let v = Array2::from_shape_fn((rows, 3), |_| rng.random::<f64>());
                (3, vec![], Some(v))
            }
        };
        Batch {
            x,
            labels,
            values,
            outputs,
        }
    }

    fn targets(&self) -> TargetsView<'_, f64> {
        match &self.values {
            Some(v) => TargetsView::Values(v.view()),
            None => TargetsView::Classes(&self.labels),
        }
    }
}

/// A random network: widths 3–9, weights N(0, 0.7²), biases N(0.1, 0.3²).
fn network(
    activation: Activation,
    loss: Loss,
    depth: usize,
    outputs: usize,
    seed: u64,
) -> Mlp<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xA5A5);
    let mut sizes = vec![5];
    sizes.extend((0..depth).map(|_| rng.random_range(3..10)));
    sizes.push(outputs);
    let mut mlp = Mlp::new(&sizes, &vec![activation; depth], loss);
    mlp.initialize(
        &"normal:mean=0:std=0.7".parse::<Init>().unwrap(),
        Some(&"normal:mean=0.1:std=0.3".parse::<Init>().unwrap()),
        seed,
    );
    mlp
}

/// Largest |a − b| / max(|a|, |b|, floor) over all parameters.
fn relative_difference(a: &Gradients<f64>, b: &Gradients<f64>, floor: f64) -> f64 {
    let mut worst = 0.0_f64;
    for (la, lb) in a.layers.iter().zip(&b.layers) {
        assert_eq!(la.weight.dim(), lb.weight.dim());
        assert_eq!(la.bias.dim(), lb.bias.dim());
        let pairs = la
            .weight
            .iter()
            .zip(&lb.weight)
            .chain(la.bias.iter().zip(&lb.bias));
        for (&x, &y) in pairs {
            let scale = x.abs().max(y.abs()).max(floor);
            worst = worst.max((x - y).abs() / scale);
        }
    }
    worst
}

#[test]
fn fast_path_equals_reference_for_every_activation_loss_and_depth() {
    let mut cases = 0;
    for (a, &activation) in ALL_ACTIVATIONS.iter().enumerate() {
        for (l, &loss) in ALL_LOSSES.iter().enumerate() {
            for depth in 1..=3 {
                let seed = (100 * a + 10 * l + depth) as u64;
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let batch = Batch::new(loss, 7, 5, &mut rng);
                let mlp = network(activation, loss, depth, batch.outputs, seed);

                let mut ws = Workspace::new(&mlp, 7);
                let mut fast = Gradients::zeros_like(&mlp);
                let fast_loss =
                    mlp.loss_and_gradients(batch.x.view(), batch.targets(), &mut ws, &mut fast);
                let (ref_loss, reference) =
                    mlp.reference_gradients(batch.x.view(), batch.targets());

                let what = format!("{activation} × {loss} × depth {depth}");
                assert!(
                    (fast_loss - ref_loss).abs() <= 1e-12 * ref_loss.abs().max(1e-300),
                    "{what}: loss {fast_loss} vs reference {ref_loss}"
                );
                assert!(
                    reference.norm() > 0.0,
                    "{what}: a zero gradient would test nothing"
                );
                let diff = relative_difference(&fast, &reference, 1e-12 * reference.norm());
                assert!(
                    diff < 1e-12,
                    "{what}: gradients differ by {diff:e} (relative)"
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 7 * 4 * 3);
}

#[test]
fn backward_from_any_output_delta_equals_reference_backward() {
    for &activation in &ALL_ACTIVATIONS {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mlp = network(activation, Loss::Mse, 2, 3, 11);
        let x = Array2::from_shape_fn((6, 5), |_| rng.random::<f64>() * 2.0 - 1.0);
        // An arbitrary dL/dz at the logits, not one any loss would give.
        let delta = Array2::from_shape_fn((6, 3), |_| rng.random::<f64>() * 4.0 - 2.0);

        let mut ws = Workspace::new(&mlp, 8);
        let mut fast = Gradients::zeros_like(&mlp);
        mlp.forward(x.view(), &mut ws);
        mlp.backward_from(delta.view(), x.view(), &mut ws, &mut fast);

        let (_, caches) = mlp.reference_forward(x.view());
        let reference = mlp.reference_backward(delta.clone(), &caches);
        let diff = relative_difference(&fast, &reference, 1e-12 * reference.norm());
        assert!(diff < 1e-12, "{activation}: gradients differ by {diff:e}");
        // The output gradient dL/da of the top layer is the delta that was given.
        assert_eq!(mlp.output_gradient(2, &mut ws), delta);
    }
}

/// Central differences of the mean loss, against the reference gradients.
fn finite_difference_check(activation: Activation, loss: Loss, depth: usize) {
    const H: f64 = 1e-6;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let batch = Batch::new(loss, 5, 5, &mut rng);
    let mlp = network(activation, loss, depth, batch.outputs, 5);
    let (_, analytic) = mlp.reference_gradients(batch.x.view(), batch.targets());
    let loss_at = |m: &Mlp<f64>| m.reference_gradients(batch.x.view(), batch.targets()).0;
    let mut checked = 0;
    for l in 0..mlp.layers.len() {
        for (i, &g) in analytic.layers[l].weight.iter().enumerate() {
            let (mut plus, mut minus) = (mlp.clone(), mlp.clone());
            plus.layers[l].weight.as_slice_mut().unwrap()[i] += H;
            minus.layers[l].weight.as_slice_mut().unwrap()[i] -= H;
            let numeric = (loss_at(&plus) - loss_at(&minus)) / (2.0 * H);
            assert!(
                (numeric - g).abs() <= 1e-6 * (1.0 + g.abs()),
                "{activation} × {loss}: dW[{l}][{i}] numeric {numeric} vs reference {g}"
            );
            checked += 1;
        }
        for (i, &g) in analytic.layers[l].bias.iter().enumerate() {
            let (mut plus, mut minus) = (mlp.clone(), mlp.clone());
            plus.layers[l].bias[i] += H;
            minus.layers[l].bias[i] -= H;
            let numeric = (loss_at(&plus) - loss_at(&minus)) / (2.0 * H);
            assert!(
                (numeric - g).abs() <= 1e-6 * (1.0 + g.abs()),
                "{activation} × {loss}: db[{l}][{i}] numeric {numeric} vs reference {g}"
            );
            checked += 1;
        }
    }
    assert!(checked > 20);
}

#[test]
fn reference_matches_finite_differences() {
    finite_difference_check(Activation::Tanh, Loss::SoftmaxCrossEntropy, 2);
    finite_difference_check(Activation::Sigmoid, Loss::Mse, 3);
    finite_difference_check(Activation::Selu, Loss::BinaryCrossEntropy, 1);
}
