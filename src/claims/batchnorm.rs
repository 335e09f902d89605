//! Ioffe & Szegedy 2015: with BatchNorm the start matters less. A deep sigmoid or tanh
//! network trained from a tiny, a huge and a Xavier start, without and with BatchNorm: the
//! spread of the final test accuracy across the starts, which BatchNorm should shrink.

use super::measure::{final_test_accuracy, start, train_runs};
use super::{Check, Claim, ClaimReport, ClaimsOptions, Evidence, act, ev, fx};
use crate::experiment::build::NormSpec;
use crate::experiment::runner::RunResult;
use crate::experiment::spec::{DataSpec, ExperimentSpec, InitEntry, NetworkSpec, TrainingSpec};
use crate::nn::Loss;

/// The claim, where it is made, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "batchnorm-start",
    source: "Ioffe & Szegedy 2015",
    statement: "With BatchNorm the start matters less: tiny and huge starts train as well as \
                Xavier (Ioffe & Szegedy 2015, §3.3 and Figure 1).",
    measure,
};

/// Largest spread of the final test accuracy across the starts that still counts as "the
/// start does not matter" (5 test points of 75).
pub const SAME_ACCURACY: f64 = 0.07;

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    batchnorm_start(&["sigmoid", "tanh"], o.threads)
}

/// The verdict rule on the final accuracies of the starts, `plain` without normalization
/// and `normalized` with BatchNorm: the start matters less when the spread (best − worst)
/// with BatchNorm is at most half the spread without, and at most [`SAME_ACCURACY`] (every
/// bad start recovers). Returns the two spreads and whether the rule holds.
pub fn start_matters_less(plain: &[f64], normalized: &[f64]) -> (f64, f64, bool) {
    let spread = |v: &[f64]| {
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        if v.is_empty() { 0.0 } else { max - min }
    };
    let (without, with) = (spread(plain), spread(normalized));
    (
        without,
        with,
        with <= 0.5 * without && with <= SAME_ACCURACY,
    )
}

/// Two moons (300 points, noise 0.1, a quarter held out) through six hidden layers of 32
/// units of each of `activations`, 150 epochs of SGD (learning rate 0.1, batches of 30), two
/// seeds, from `tiny` (σ = 0.01), `huge` (σ = 10) and `xavier-normal`; once plain, once
/// with BatchNorm before each activation.
pub fn batchnorm_start(activations: &[&str], threads: usize) -> ClaimReport {
    let spec = |norm: NormSpec| ExperimentSpec {
        seeds: 2,
        ..ExperimentSpec::new(
            "claims-batchnorm",
            DataSpec {
                samples: Some(300),
                noise: Some(0.1),
                test_fraction: 0.25,
                ..DataSpec::new("moons")
            },
            NetworkSpec {
                norm,
                ..NetworkSpec::new(
                    vec![32; 6],
                    activations.iter().map(|a| act(a)).collect(),
                    Loss::SoftmaxCrossEntropy,
                )
            },
            TrainingSpec {
                batch_size: Some(30),
                log_every: 150,
                ..TrainingSpec::new(150, 0.1)
            },
            vec![
                InitEntry::Name("tiny".into()),
                start("huge", &[("std", 10.0)], None),
                InitEntry::Name("xavier-normal".into()),
            ],
        )
    };
    let plain = train_runs(spec(NormSpec::None), threads);
    let normalized = train_runs(spec(NormSpec::Batchnorm), threads);
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for (ai, a) in activations.iter().enumerate() {
        let accuracies = |results: &[(String, Vec<RunResult<f64>>)],
                          norm: &str,
                          evidence: &mut Vec<Evidence>| {
            results
                .iter()
                .map(|(label, runs)| {
                    let acc = final_test_accuracy(runs.iter().filter(|r| r.spec.activation == ai));
                    let cond = format!("{label}, {a}, {norm}, moons 6×32");
                    ev(
                        evidence,
                        &cond,
                        "final test accuracy (mean of 2 seeds)",
                        acc,
                    );
                    (label.clone(), acc)
                })
                .collect::<Vec<_>>()
        };
        let without = accuracies(&plain, "no norm", &mut evidence);
        let with = accuracies(&normalized, "batchnorm", &mut evidence);
        let values = |v: &[(String, f64)]| v.iter().map(|(_, x)| *x).collect::<Vec<_>>();
        let (spread_plain, spread_bn, passed) =
            start_matters_less(&values(&without), &values(&with));
        let cond = format!("{a}, moons 6×32");
        ev(
            &mut evidence,
            &cond,
            "accuracy spread across starts, no norm",
            spread_plain,
        );
        ev(
            &mut evidence,
            &cond,
            "accuracy spread across starts, batchnorm",
            spread_bn,
        );
        let list = |v: &[(String, f64)]| {
            v.iter()
                .map(|(l, x)| format!("{l} {}", fx(*x)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        checks.push(Check {
            condition: cond,
            finding: format!(
                "test accuracy spread across starts {} without BatchNorm ({}), {} with ({})",
                fx(spread_plain),
                list(&without),
                fx(spread_bn),
                list(&with)
            ),
            passed,
            theory: None,
        });
    }
    CLAIM.report(checks, evidence)
}
