//! From per-seed values to a verdict: the quantifier (`all`, `any`, `at_least = k`, `mean`,
//! `median`) applied with the predicate, and the measured value in words for the table.

use super::expectation::{Expectation, Quantifier};
use super::format::num;
use super::measure::SeedValues;

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The expectation checked.
    pub expectation: Expectation,
    /// Whether it holds.
    pub passed: bool,
    /// What was measured, in words (e.g. `0.6931 (mean of 5 seeds)`).
    pub measured: String,
}

impl Verdict {
    /// The points earned: all of the expectation's when it holds, none otherwise.
    pub fn score(&self) -> f64 {
        if self.passed {
            self.expectation.points
        } else {
            0.0
        }
    }
}

/// A value for the table: `diverged` for NaN, `never` for +∞.
fn shown(v: f64) -> String {
    if v.is_nan() {
        "diverged".into()
    } else if v == f64::INFINITY {
        "never".into()
    } else {
        num(v)
    }
}

/// The median of values (NaN if any is NaN).
fn median(values: &[f64]) -> f64 {
    if values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Applies the quantifier and predicate to the per-seed values.
pub fn judge(e: &Expectation, values: &SeedValues) -> Verdict {
    let v: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
    let n = v.len();
    let holding = v.iter().filter(|&&x| e.predicate.holds(x)).count();
    let diverged = v.iter().filter(|x| x.is_nan()).count();
    let list = || {
        let shown: Vec<String> = v.iter().map(|&x| shown(x)).collect();
        if n <= 8 {
            shown.join(", ")
        } else {
            let finite: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{} … {}", shown_or_none(lo), shown_or_none(hi))
        }
    };
    let (passed, measured) = match e.quantifier {
        Quantifier::All | Quantifier::Any | Quantifier::AtLeast(_) => {
            let needed = match e.quantifier {
                Quantifier::All => n,
                Quantifier::Any => 1,
                Quantifier::AtLeast(k) => k,
                _ => unreachable!(),
            };
            (
                holding >= needed && n > 0,
                format!("{holding} of {n} seeds hold: {}", list()),
            )
        }
        Quantifier::Mean | Quantifier::Median => {
            let (value, what) = if e.quantifier == Quantifier::Mean {
                (v.iter().sum::<f64>() / n as f64, "mean")
            } else {
                (median(&v), "median")
            };
            let note = if diverged > 0 {
                format!(", {diverged} diverged")
            } else {
                String::new()
            };
            (
                e.predicate.holds(value),
                format!("{} ({what} of {n} seeds{note})", shown(value)),
            )
        }
    };
    Verdict {
        expectation: e.clone(),
        passed,
        measured,
    }
}

fn shown_or_none(v: f64) -> String {
    if v.is_finite() || v == f64::INFINITY {
        shown(v)
    } else {
        "diverged".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::expectation::from_tables;

    fn expectation(extra: &str) -> Expectation {
        let text = format!("[[expect]]\nquantity = \"train_loss\"\n{extra}");
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let tables = doc["expect"].as_array().unwrap().clone();
        from_tables(&tables, "t").unwrap().remove(0)
    }

    fn seeds(v: &[f64]) -> SeedValues {
        v.iter().enumerate().map(|(i, &x)| (i as u64, x)).collect()
    }

    #[test]
    fn quantifiers_count_seeds() {
        let v = seeds(&[0.1, 0.2, 0.9]);
        assert!(!judge(&expectation("at_most = 0.5"), &v).passed);
        assert!(judge(&expectation("at_most = 0.5\nseeds = \"any\""), &v).passed);
        assert!(judge(&expectation("at_most = 0.5\nseeds = { at_least = 2 }"), &v).passed);
        assert!(!judge(&expectation("at_most = 0.5\nseeds = { at_least = 3 }"), &v).passed);
        // mean 0.4, median 0.2
        assert!(
            judge(
                &expectation("approx = 0.4\nabs = 1e-12\nseeds = \"mean\""),
                &v
            )
            .passed
        );
        assert!(
            judge(
                &expectation("approx = 0.2\nrel = 1e-12\nseeds = \"median\""),
                &v
            )
            .passed
        );
        assert!(!judge(&expectation("between = [0.3, 0.35]\nseeds = \"mean\""), &v).passed);
        let m = judge(&expectation("at_most = 0.5"), &v).measured;
        assert_eq!(m, "2 of 3 seeds hold: 0.1, 0.2, 0.9");
    }

    #[test]
    fn diverged_seeds_never_pass_and_are_named() {
        let v = seeds(&[0.1, f64::NAN]);
        let all = judge(&expectation("at_most = 0.5"), &v);
        assert!(!all.passed);
        assert_eq!(all.measured, "1 of 2 seeds hold: 0.1, diverged");
        let mean = judge(&expectation("at_most = 0.5\nseeds = \"mean\""), &v);
        assert!(!mean.passed);
        assert_eq!(mean.measured, "diverged (mean of 2 seeds, 1 diverged)");
        // Never reached is +∞: fails at_most, passes at_least.
        let never = seeds(&[f64::INFINITY]);
        assert!(!judge(&expectation("at_most = 100"), &never).passed);
        assert!(judge(&expectation("at_least = 100"), &never).passed);
    }
}
