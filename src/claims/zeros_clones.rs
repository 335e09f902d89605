//! §2 of the guide: zero or constant starts make the hidden units clones.

use super::measure::{first_layer_distinct_units, start, train_runs};
use super::{Check, Claim, ClaimReport, ClaimsOptions, ev};
use crate::experiment::spec::{DataSpec, ExperimentSpec, InitEntry, NetworkSpec, TrainingSpec};
use crate::nn::{Activation, Loss};

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "zeros-clones",
    source: "§2",
    statement: "If every weight starts at zero, every neuron of a layer learns the same thing: clones.",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    zeros_make_clones(None, o.threads)
}

/// §2: zero (or constant) weights make the hidden units clones; random ones do not.
/// `bias` is the bias start of the constant starts (`None` = zeros): a random bias breaks
/// the symmetry, and the claim's condition with it.
pub fn zeros_make_clones(bias: Option<&str>, threads: usize) -> ClaimReport {
    let spec = ExperimentSpec {
        seeds: 2,
        ..ExperimentSpec::new(
            "claims-clones",
            DataSpec::new("xor"),
            NetworkSpec::new(vec![4], vec![Activation::Tanh], Loss::BinaryCrossEntropy),
            TrainingSpec {
                log_every: 1000,
                ..TrainingSpec::new(1000, 0.5)
            },
            vec![
                start("zeros", &[], bias),
                start("constant", &[("value", 0.5)], bias),
                InitEntry::Name("xavier-normal".into()),
            ],
        )
    };
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for (label, runs) in train_runs(spec, threads) {
        let distinct: Vec<usize> = runs.iter().map(first_layer_distinct_units).collect();
        let acc: Vec<f64> = runs
            .iter()
            .map(|r| {
                r.records
                    .last()
                    .and_then(|x| x.train_accuracy)
                    .unwrap_or(0.0)
            })
            .collect();
        let worst = *distinct.iter().max().unwrap_or(&0);
        let best_acc = acc.iter().copied().fold(0.0, f64::max);
        let cond = format!(
            "{label}{}, XOR 2-4-1 tanh",
            bias.map_or(String::new(), |b| format!(" (bias {b})"))
        );
        ev(
            &mut evidence,
            &cond,
            "distinct hidden units of 4 (max over seeds)",
            worst as f64,
        );
        ev(&mut evidence, &cond, "train accuracy (best seed)", best_acc);
        let random = label == "xavier-normal";
        let passed = if random { worst > 1 } else { worst == 1 };
        checks.push(Check {
            condition: cond,
            finding: format!(
                "{worst} distinct unit(s) of 4 after 1000 epochs, accuracy ≤ {:.2}{}",
                best_acc,
                if random {
                    " (random start: expected diverse)"
                } else {
                    ""
                }
            ),
            passed,
            theory: None,
        });
    }
    CLAIM.report(checks, evidence)
}
