//! §4 and rows 2/9 of the guide: Xavier divides by fan_in + fan_out, He by fan_in, measured
//! as one layer's variance gains.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Check, Claim, ClaimReport, ClaimsOptions, balanced, ev, fx, init};
use crate::nn::gemm::{GemmScratch, gemm};
use crate::nn::{Activation, Fan, Init};

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "scaling-logic",
    source: "§4, rows 2/9",
    statement: "Xavier divides by all neurons (in + out): many inputs → smaller weights, signal kept.",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    let w = o.width;
    scaling_logic(&[(w, w), (4 * w, w), (w, 4 * w)], o.seed)
}

/// Forward and backward variance gains of one freshly initialized layer `fan_in → fan_out`
/// (no activation): Var(x·Wᵀ)/Var(x) and Var(g·W)/Var(g) on standard-normal batches, and
/// the weights' standard deviation.
pub fn layer_gains(init: &Init, fan_in: usize, fan_out: usize, seed: u64) -> (f64, f64, f64) {
    let fan = Fan { fan_in, fan_out };
    let mut rng = crate::nn::init::layer_rng(seed, 0, false);
    let w: Array2<f64> = init.sample(fan, Activation::Identity, &mut rng);
    let mut data_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut normal = |rows: usize, cols: usize| {
        Array2::from_shape_simple_fn((rows, cols), || {
            let z: f64 = StandardNormal.sample(&mut data_rng);
            z
        })
    };
    let var = |a: &Array2<f64>| {
        let n = a.len() as f64;
        let m = a.sum() / n;
        a.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n
    };
    let x = normal(512, fan_in);
    let g = normal(512, fan_out);
    let _mode = crate::nn::float::DenormalMode::Flush.enter(); // as in training
    let product = |a: ArrayView2<f64>, b: ArrayView2<f64>| {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        gemm(1.0, a, b, 0.0, c.view_mut(), &mut GemmScratch::new(), 1);
        c
    };
    let forward = var(&product(x.view(), w.t())) / var(&x);
    let backward = var(&product(g.view(), w.view())) / var(&g);
    (forward, backward, var(&w).sqrt())
}

/// Row 9 and §4: Xavier divides by fan_in + fan_out ("many inputs → smaller weights"), He by
/// fan_in only. Measured on layers `fan_in → fan_out` for every pair in `shapes`.
pub fn scaling_logic(shapes: &[(usize, usize)], seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    let mut xavier_std = Vec::new();
    for &(fi, fo) in shapes {
        let (xf, xb, xs) = layer_gains(&init("xavier-normal"), fi, fo, seed);
        let (hf, hb, hs) = layer_gains(&init("he-normal"), fi, fo, seed);
        let cx = format!("xavier-normal, {fi} → {fo}");
        let ch = format!("he-normal, {fi} → {fo}");
        ev(&mut evidence, &cx, "weight std", xs);
        ev(&mut evidence, &cx, "forward variance gain", xf);
        ev(&mut evidence, &cx, "backward variance gain", xb);
        ev(&mut evidence, &ch, "weight std", hs);
        ev(
            &mut evidence,
            &ch,
            "forward variance gain (ReLU halves it)",
            hf,
        );
        ev(&mut evidence, &ch, "backward variance gain", hb);
        xavier_std.push((fi, fo, xs));
        // Xavier's promise: both directions kept (gain within the balanced band).
        checks.push(Check {
            condition: format!(
                "xavier-normal, fan_in {fi}, fan_out {fo} (ratio {:.2})",
                fi as f64 / fo as f64
            ),
            finding: format!(
                "variance gain forward ×{}, backward ×{} (He: ×{} forward, i.e. ×{} after ReLU)",
                fx(xf),
                fx(xb),
                fx(hf),
                fx(hf / 2.0)
            ),
            passed: balanced(xf) && balanced(xb),
            theory: None,
        });
    }
    // "Many inputs → smaller weights": compare shapes with the same fan_out.
    for &(fi, fo, s) in &xavier_std {
        for &(fj, fo2, s2) in &xavier_std {
            if fo == fo2 && fj > fi {
                checks.push(Check {
                    condition: format!("xavier-normal, {fi} vs {fj} inputs (fan_out {fo})"),
                    finding: format!("weight std {} → {}", fx(s), fx(s2)),
                    passed: s2 < s,
                    theory: None,
                });
            }
        }
    }
    CLAIM.report(checks, evidence)
}
