//! Losses stay finite at huge logits and match direct formulas at moderate ones.

use initlab::nn::{Loss, TargetsView};
use ndarray::{Array2, array};

fn value(loss: Loss, z: &Array2<f32>, targets: TargetsView<f32>) -> (f64, Array2<f32>) {
    let mut grad = Array2::zeros(z.dim());
    let v = loss.evaluate(z.view(), targets, Some(grad.view_mut()), 1.0);
    (v, grad)
}

#[test]
fn finite_at_logits_of_plus_minus_1e4() {
    let z1 = array![[1e4_f32], [-1e4], [1e4], [-1e4]];
    let labels = [0usize, 1, 1, 0];
    for loss in [Loss::BinaryCrossEntropy, Loss::Mse, Loss::SigmoidMse] {
        let (v, g) = value(loss, &z1, TargetsView::Classes(&labels));
        assert!(v.is_finite(), "{loss}: {v}");
        assert!(g.iter().all(|g| g.is_finite()), "{loss} gradient");
    }
    // BCE: the two wrong rows cost 1e4 each, the right ones ~0.
    let (v, _) = value(Loss::BinaryCrossEntropy, &z1, TargetsView::Classes(&labels));
    assert!((v - 2e4).abs() < 1e-6, "{v}");
    let z3 = array![[1e4_f32, -1e4, 0.0], [-1e4, 1e4, 1e4]];
    let (v, g) = value(
        Loss::SoftmaxCrossEntropy,
        &z3,
        TargetsView::Classes(&[1, 0]),
    );
    assert!(v.is_finite() && g.iter().all(|g| g.is_finite()));
    // Row 1: lse = 1e4, z_y = −1e4 → 2e4. Row 2: lse = 1e4 + ln 2, z_y = −1e4 → 2e4 + ln 2.
    assert!((v - (4e4 + 2f64.ln())).abs() < 1e-6, "{v}");
}

#[test]
fn match_direct_formulas_at_moderate_logits() {
    let z = array![[0.3_f64], [-1.2]];
    let y = [1usize, 0];
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let bce: f64 = -(sig(0.3).ln()) - (1.0 - sig(-1.2)).ln();
    let got = Loss::BinaryCrossEntropy.evaluate(z.view(), TargetsView::Classes(&y), None, 1.0);
    assert!((got - bce).abs() < 1e-14);
    let mse = (0.3 - 1.0_f64).powi(2) + (-1.2_f64).powi(2);
    let got = Loss::Mse.evaluate(z.view(), TargetsView::Classes(&y), None, 1.0);
    assert!((got - mse).abs() < 1e-14);
    let smse = (sig(0.3) - 1.0).powi(2) + sig(-1.2).powi(2);
    let got = Loss::SigmoidMse.evaluate(z.view(), TargetsView::Classes(&y), None, 1.0);
    assert!((got - smse).abs() < 1e-14);
    let z3 = array![[0.5_f64, -0.25, 1.0]];
    let sum: f64 = z3.iter().map(|v| v.exp()).sum();
    let ce = -(z3[[0, 2]].exp() / sum).ln();
    let got = Loss::SoftmaxCrossEntropy.evaluate(z3.view(), TargetsView::Classes(&[2]), None, 1.0);
    assert!((got - ce).abs() < 1e-14);
}

#[test]
fn accuracy_counts_thresholds_and_argmax() {
    let z = array![[0.1_f32], [-0.1], [2.0]];
    assert_eq!(
        Loss::BinaryCrossEntropy.count_correct(z.view(), &[1, 0, 0]),
        2
    );
    let z3 = array![[0.1_f32, 0.9, 0.3], [5.0, 1.0, 2.0]];
    assert_eq!(
        Loss::SoftmaxCrossEntropy.count_correct(z3.view(), &[1, 2]),
        1
    );
}

#[test]
fn names_parse_and_unknown_lists_valid_ones() {
    for l in initlab::nn::loss::ALL_LOSSES {
        assert_eq!(l.name().parse::<Loss>().unwrap(), l);
    }
    let err = "hinge".parse::<Loss>().unwrap_err();
    assert!(
        err.contains("hinge") && err.contains("cross-entropy"),
        "{err}"
    );
}

/// The fast softmax-CE path (one `exp` per logit, `ln` of a running product) against a
/// row-by-row f64 reference, over many rows of wide, large logits (so the product is flushed
/// several times), and against the general path (non-contiguous logits) on the same data.
#[test]
fn softmax_ce_fast_path_matches_row_by_row_reference() {
    let (rows, width) = (3000, 64);
    let mut state = 12345_u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 60.0 - 30.0
    };
    let z = Array2::from_shape_simple_fn((rows, width), || next() as f32);
    let labels: Vec<usize> = (0..rows).map(|i| (i * 7) % width).collect();
    let mut want_total = 0.0_f64;
    let mut want_grad = Array2::<f64>::zeros((rows, width));
    for i in 0..rows {
        let row: Vec<f64> = z.row(i).iter().map(|&v| v as f64).collect();
        let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        want_total += lse - row[labels[i]];
        for k in 0..width {
            want_grad[[i, k]] = (row[k] - lse).exp() - if k == labels[i] { 1.0 } else { 0.0 };
        }
    }
    let (got, grad) = value(Loss::SoftmaxCrossEntropy, &z, TargetsView::Classes(&labels));
    assert!(
        (got - want_total).abs() <= 1e-12 * want_total.abs(),
        "{got} vs {want_total}"
    );
    for (g, w) in grad.iter().zip(want_grad.iter()) {
        assert!(
            (*g as f64 - w).abs() <= 1e-7 * w.abs().max(1e-30) + 1e-30,
            "{g} vs {w}"
        );
    }
    // General path: the same logits as a non-contiguous (transposed-back) view.
    let zt = z.t().to_owned();
    let mut grad2 = Array2::<f32>::zeros((width, rows));
    let general = Loss::SoftmaxCrossEntropy.evaluate(
        zt.t(),
        TargetsView::Classes(&labels),
        Some(grad2.view_mut().reversed_axes()),
        1.0,
    );
    assert!(
        (general - got).abs() <= 1e-12 * got.abs(),
        "{general} vs {got}"
    );
}
