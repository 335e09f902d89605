//! Kingma & Ba 2015 and §2 of the guide: under Adam the scale of the start matters less,
//! its symmetry still does. The guide's bad starts (zeros, tiny, huge) beside Xavier, each
//! trained with SGD and with Adam: how far each falls short of Xavier's accuracy under
//! either, and how many distinct hidden units the zero start ends with.

use super::measure::{final_test_accuracy, first_layer_distinct_units, start, train_runs};
use super::{Check, Claim, ClaimReport, ClaimsOptions, ev, fx};
use crate::experiment::build::OptimizerSpec;
use crate::experiment::spec::{DataSpec, ExperimentSpec, InitEntry, NetworkSpec, TrainingSpec};
use crate::nn::{Activation, Loss};

/// The claim, where it is made, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "adam-scale-symmetry",
    source: "Kingma & Ba 2015; §2",
    statement: "Under Adam the scale of the start matters less (each step is about the \
                learning rate, whatever the gradient's size: Kingma & Ba 2015, §2.1), its \
                symmetry still does (identical units get identical updates, guide §2).",
    measure,
};

/// Accuracy gap to Xavier below which a start counts as recovered whatever SGD did.
pub const RECOVERED: f64 = 0.02;

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    adam_scale_symmetry(o.threads)
}

/// The verdict rule for a scaled start (tiny, huge): its accuracy gap to Xavier under Adam
/// is at most half its gap under SGD, or below [`RECOVERED`].
pub fn scale_matters_less(gap_sgd: f64, gap_adam: f64) -> bool {
    gap_adam <= 0.5 * gap_sgd || gap_adam <= RECOVERED
}

/// The verdict rule for the zero start: symmetry still matters when it ends with one
/// distinct hidden unit under both optimizers (the most over seeds).
pub fn symmetry_still_matters(distinct_sgd: usize, distinct_adam: usize) -> bool {
    distinct_sgd == 1 && distinct_adam == 1
}

/// Two moons (300 points, noise 0.1, a quarter held out), 2-16-16-16-2 tanh, 100 epochs in
/// batches of 30, two seeds, from `zeros`, `tiny` (σ = 0.01), `huge` (σ = 10) and
/// `xavier-normal`: once with SGD (learning rate 0.1), once with Adam (0.01, PyTorch's
/// betas and eps).
pub fn adam_scale_symmetry(threads: usize) -> ClaimReport {
    let spec = |optimizer: &str, learning_rate: f64| ExperimentSpec {
        seeds: 2,
        ..ExperimentSpec::new(
            "claims-adam",
            DataSpec {
                samples: Some(300),
                noise: Some(0.1),
                test_fraction: 0.25,
                ..DataSpec::new("moons")
            },
            NetworkSpec::new(
                vec![16, 16, 16],
                vec![Activation::Tanh],
                Loss::SoftmaxCrossEntropy,
            ),
            TrainingSpec {
                batch_size: Some(30),
                log_every: 100,
                optimizer: OptimizerSpec::Name(optimizer.into()),
                ..TrainingSpec::new(100, learning_rate)
            },
            vec![
                InitEntry::Name("zeros".into()),
                InitEntry::Name("tiny".into()),
                start("huge", &[("std", 10.0)], None),
                InitEntry::Name("xavier-normal".into()),
            ],
        )
    };
    let mut evidence = Vec::new();
    // Per optimizer, per start: (label, mean final test accuracy, most distinct units).
    let mut measured = Vec::new();
    for (optimizer, learning_rate) in [("sgd", 0.1), ("adam", 0.01)] {
        let per_start: Vec<(String, f64, usize)> =
            train_runs(spec(optimizer, learning_rate), threads)
                .into_iter()
                .map(|(label, runs)| {
                    let accuracy = final_test_accuracy(&runs);
                    let distinct = runs
                        .iter()
                        .map(first_layer_distinct_units)
                        .max()
                        .unwrap_or(0);
                    let cond = format!("{label}, {optimizer}, moons 2-16-16-16-2 tanh");
                    ev(
                        &mut evidence,
                        &cond,
                        "final test accuracy (mean of 2 seeds)",
                        accuracy,
                    );
                    ev(
                        &mut evidence,
                        &cond,
                        "distinct units of 16 in layer 1 (max over seeds)",
                        distinct as f64,
                    );
                    (label, accuracy, distinct)
                })
                .collect();
        measured.push(per_start);
    }
    let (sgd, adam) = (&measured[0], &measured[1]);
    let of = |v: &[(String, f64, usize)], name: &str| {
        v.iter()
            .find(|(l, ..)| l == name)
            .map(|(_, a, d)| (*a, *d))
            .expect("every start measured")
    };
    let (xavier_sgd, xavier_adam) = (of(sgd, "xavier-normal").0, of(adam, "xavier-normal").0);
    let mut checks = Vec::new();
    for name in ["tiny", "huge"] {
        let (a_sgd, a_adam) = (of(sgd, name).0, of(adam, name).0);
        let (gap_sgd, gap_adam) = (xavier_sgd - a_sgd, xavier_adam - a_adam);
        let cond = format!("{name}, moons 2-16-16-16-2 tanh");
        ev(
            &mut evidence,
            &cond,
            "accuracy gap to xavier-normal, sgd",
            gap_sgd,
        );
        ev(
            &mut evidence,
            &cond,
            "accuracy gap to xavier-normal, adam",
            gap_adam,
        );
        checks.push(Check {
            condition: format!("{name}, SGD vs Adam"),
            finding: format!(
                "test accuracy {} (SGD) → {} (Adam); gap to Xavier {} → {}",
                fx(a_sgd),
                fx(a_adam),
                fx(gap_sgd),
                fx(gap_adam)
            ),
            passed: scale_matters_less(gap_sgd, gap_adam),
            theory: None,
        });
    }
    let ((acc_sgd, d_sgd), (acc_adam, d_adam)) = (of(sgd, "zeros"), of(adam, "zeros"));
    checks.push(Check {
        condition: "zeros, SGD vs Adam".into(),
        finding: format!(
            "{d_sgd} (SGD) and {d_adam} (Adam) distinct unit(s) of 16 in layer 1, test \
             accuracy {} and {}",
            fx(acc_sgd),
            fx(acc_adam)
        ),
        passed: symmetry_still_matters(d_sgd, d_adam),
        theory: None,
    });
    CLAIM.report(checks, evidence)
}
