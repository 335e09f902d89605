//! Expectations checked against a results directory: what a correct result looks like,
//! stated with tolerances that respect seed-to-seed variance, and graded.
//!
//! An expectations file (or an experiment file's own `[[expect]]` tables) lists
//! expectations such as
//!
//! ```toml
//! [[expect]]
//! name = "zeros stays at ln 2"
//! start = "zeros"
//! activation = "sigmoid"
//! quantity = "train_loss"      # at epoch = "final" unless `epoch` says otherwise
//! approx = 0.6931
//! abs = 0.01
//! seeds = "all"                # all | any | mean | median | { at_least = k }
//! points = 2
//! visibility = "visible"       # visible | hidden | after_due_date | after_published
//! message = "zeros should stay at ln 2: did you break symmetry?"
//! ```
//!
//! - [`expectation`]: the keys, checked before anything is read;
//! - [`measure`]: the per-seed values of a quantity from `metrics.csv`, `layers.csv`,
//!   `classes.csv` (a `class = "setosa"` selector) and `weights/`;
//! - [`verdict`]: the quantifier and predicate applied;
//! - [`format`](mod@format): the table, JSON, Gradescope `results.json` and JUnit XML.
//!
//! The README's "Using initlab in a course" lists every key and quantity.

pub mod expectation;
pub mod format;
pub mod measure;
pub mod verdict;

use std::path::Path;

pub use expectation::{
    Epoch, Expectation, Metric, Predicate, Quantifier, Visibility, parse_expectations,
};
pub use verdict::Verdict;

/// Checks every expectation against the results in `dir`, in order. An expectation whose
/// selector matches nothing, or whose quantity the experiment does not have, is an error
/// naming it (never a silent pass).
pub fn check_dir(dir: &Path, expectations: &[Expectation]) -> Result<Vec<Verdict>, String> {
    let mut results = measure::Results::open(dir)?;
    expectations
        .iter()
        .map(|e| {
            let values = results
                .values(e)
                .map_err(|err| format!("expectation `{}`: {err}", e.name))?;
            Ok(verdict::judge(e, &values))
        })
        .collect()
}

/// Whether any expectation needs the saved weights (`distinct_units`), so that a run
/// checked right after it finishes can save them.
pub fn needs_weights(expectations: &[Expectation]) -> bool {
    expectations
        .iter()
        .any(|e| e.quantity == Metric::DistinctUnits)
}
