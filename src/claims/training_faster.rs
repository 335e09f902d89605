//! §6 of the guide: Xavier and He train faster and more stably than tiny or huge starts.

use super::measure::{start, train_runs, worst_loss};
use super::{Check, Claim, ClaimReport, ClaimsOptions, act, ev};
use crate::experiment::spec::{DataSpec, ExperimentSpec, InitEntry, NetworkSpec, TrainingSpec};
use crate::nn::Loss;

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "training-faster",
    source: "§6",
    statement: "Both Xavier and He make training faster and more stable (than tiny or huge starts).",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    training_faster(&["tanh", "relu"], o.threads)
}

/// §6: both make training faster (and more stable) than tiny or huge starts: epochs to a
/// target loss on two moons, 2-16-16-16-2, per activation in `activations`.
pub fn training_faster(activations: &[&str], threads: usize) -> ClaimReport {
    let target = 0.35;
    let spec = ExperimentSpec {
        seeds: 2,
        ..ExperimentSpec::new(
            "claims-speed",
            DataSpec {
                samples: Some(200),
                noise: Some(0.1),
                ..DataSpec::new("moons")
            },
            NetworkSpec::new(
                vec![16, 16, 16],
                activations.iter().map(|a| act(a)).collect(),
                Loss::SoftmaxCrossEntropy,
            ),
            TrainingSpec {
                batch_size: Some(20),
                log_every: 5,
                ..TrainingSpec::new(150, 0.1)
            },
            vec![
                InitEntry::Name("tiny".into()),
                start("huge", &[("std", 10.0)], None),
                InitEntry::Name("xavier-normal".into()),
                InitEntry::Name("he-normal".into()),
            ],
        )
    };
    let results = train_runs(spec, threads);
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for (ai, a) in activations.iter().enumerate() {
        // Epochs to the target (worst seed; None = never), and whether any run diverged.
        let mut speed = Vec::new();
        for (label, runs) in &results {
            let runs: Vec<_> = runs.iter().filter(|r| r.spec.activation == ai).collect();
            let reach: Vec<Option<usize>> = runs
                .iter()
                .map(|r| {
                    r.records
                        .iter()
                        .find(|x| x.train_loss <= target)
                        .map(|x| x.epoch)
                })
                .collect();
            let worst = if reach.iter().all(Option::is_some) {
                reach.iter().flatten().max().copied()
            } else {
                None
            };
            let diverged = runs.iter().any(|r| r.records.iter().any(|x| x.diverged));
            let cond = format!("{label}, {a}, moons 2-16-16-16-2");
            ev(
                &mut evidence,
                &cond,
                &format!("epochs to loss ≤ {target} (worst seed; -1 never)"),
                worst.map_or(-1.0, |e| e as f64),
            );
            let last = worst_loss(
                runs.iter()
                    .map(|r| r.records.last().map_or(f64::NAN, |x| x.train_loss)),
            );
            ev(&mut evidence, &cond, "final train loss (worst seed)", last);
            speed.push((label.clone(), worst, diverged));
        }
        let show = |w: Option<usize>| w.map_or("never".to_string(), |e| format!("{e}"));
        let epochs_of = |name: &str| {
            speed
                .iter()
                .find(|(l, ..)| l == name)
                .and_then(|(_, w, _)| *w)
        };
        let bad_best = speed
            .iter()
            .filter(|(l, ..)| l == "tiny" || l == "huge")
            .map(|(_, w, _)| w.unwrap_or(usize::MAX))
            .min()
            .unwrap_or(usize::MAX);
        for (label, w, diverged) in speed.iter().filter(|(l, ..)| l != "tiny" && l != "huge") {
            let faster = w.is_some_and(|e| e < bad_best) && !diverged;
            checks.push(Check {
                condition: format!("{label}, {a}"),
                finding: format!(
                    "loss ≤ {target} at epoch {} vs tiny {} / huge {}",
                    show(*w),
                    show(epochs_of("tiny")),
                    show(epochs_of("huge"))
                ),
                passed: faster,
                theory: None,
            });
        }
    }
    CLAIM.report(checks, evidence)
}
