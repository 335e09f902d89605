//! The tidy CSV files: one observation per row, columns exactly as in DESIGN.md, numbers in
//! Rust's shortest round-trip form so that the same results give the same bytes.

use std::io::{self, Write};

use crate::nn::EpochRecord;

use super::stats::LayerStats;

/// Header of `metrics.csv`.
pub const METRICS_HEADER: &str = "experiment,init,activation,seed,epoch,train_loss,train_accuracy,test_loss,test_accuracy,gradient_norm,diverged";
/// Header of `layers.csv`.
pub const LAYERS_HEADER: &str = "experiment,init,activation,seed,epoch,layer,activation_mean,activation_std,saturated_fraction,dead_fraction,gradient_std,weight_std,update_ratio";
/// Header of `summary.csv`.
pub const SUMMARY_HEADER: &str = "experiment,init,activation,runs,diverged,final_train_loss_mean,final_train_loss_std,final_train_accuracy_mean,final_train_accuracy_std,final_test_loss_mean,final_test_loss_std,final_test_accuracy_mean,final_test_accuracy_std,epochs_to_target_median,partial";
/// Header of `boundary.csv`.
pub const BOUNDARY_HEADER: &str = "experiment,init,activation,seed,x,y,class,confidence";

/// Identifies a run in every row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunKey {
    /// Experiment name.
    pub experiment: String,
    /// Init label.
    pub init: String,
    /// Activation name.
    pub activation: String,
    /// Seed value.
    pub seed: u64,
}

/// A number as written in the CSV files (empty when absent).
pub fn num(value: Option<f64>) -> String {
    match value {
        Some(v) => fmt_f64(v),
        None => String::new(),
    }
}

/// Shortest round-trip text of a float; `NaN`, `inf`, `-inf` for non-finite values.
pub fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

/// Quotes a CSV field if it needs it.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl RunKey {
    fn prefix(&self) -> String {
        format!(
            "{},{},{},{}",
            field(&self.experiment),
            field(&self.init),
            field(&self.activation),
            self.seed
        )
    }
}

/// Writes one run's `metrics.csv` rows.
pub fn write_metrics(w: &mut dyn Write, key: &RunKey, records: &[EpochRecord]) -> io::Result<()> {
    let prefix = key.prefix();
    for r in records {
        writeln!(
            w,
            "{prefix},{},{},{},{},{},{},{}",
            r.epoch,
            fmt_f64(r.train_loss),
            num(r.train_accuracy),
            num(r.test_loss),
            num(r.test_accuracy),
            fmt_f64(r.gradient_norm),
            r.diverged
        )?;
    }
    Ok(())
}

/// Writes one run's `layers.csv` rows.
pub fn write_layers(w: &mut dyn Write, key: &RunKey, stats: &[LayerStats]) -> io::Result<()> {
    let prefix = key.prefix();
    for s in stats {
        writeln!(
            w,
            "{prefix},{},{},{},{},{},{},{},{},{}",
            s.epoch,
            s.layer,
            fmt_f64(s.activation_mean),
            fmt_f64(s.activation_std),
            num(s.saturated_fraction),
            num(s.dead_fraction),
            fmt_f64(s.gradient_std),
            fmt_f64(s.weight_std),
            num(s.update_ratio)
        )?;
    }
    Ok(())
}

/// One row of `summary.csv`: a start × activation over its seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Experiment name.
    pub experiment: String,
    /// Init label.
    pub init: String,
    /// Activation name.
    pub activation: String,
    /// Runs finished.
    pub runs: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Final train loss over the runs that did not diverge: mean and sample std.
    pub train_loss: Option<(f64, f64)>,
    /// Final train accuracy (non-diverged runs).
    pub train_accuracy: Option<(f64, f64)>,
    /// Final test loss (non-diverged runs).
    pub test_loss: Option<(f64, f64)>,
    /// Final test accuracy (non-diverged runs).
    pub test_accuracy: Option<(f64, f64)>,
    /// Median over runs of the first logged epoch with train loss ≤ target; runs that never
    /// reach it count as never (∞), so a median of ∞ is written as empty.
    pub epochs_to_target: Option<f64>,
    /// Whether the experiment was interrupted before every run finished.
    pub partial: bool,
}

/// Mean and sample standard deviation (0 for a single value); `None` if empty.
pub fn mean_and_std(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = if values.len() > 1 {
        (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((mean, std))
}

/// Median of values where `None` means "never" (sorts last).
pub fn median_of_reached(values: &[Option<usize>]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = values
        .iter()
        .map(|x| x.map_or(f64::INFINITY, |e| e as f64))
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    m.is_finite().then_some(m)
}

/// The summary of one start × activation from its runs' records (in seed order).
pub fn summarize(
    experiment: &str,
    init: &str,
    activation: &str,
    runs: &[&[EpochRecord]],
    target_loss: Option<f64>,
    partial: bool,
) -> SummaryRow {
    let finals: Vec<&EpochRecord> = runs.iter().filter_map(|r| r.last()).collect();
    let ok: Vec<&&EpochRecord> = finals.iter().filter(|r| !r.diverged).collect();
    let collect = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Option<(f64, f64)> {
        let values: Vec<f64> = ok.iter().filter_map(|r| f(r)).collect();
        mean_and_std(&values)
    };
    let reached: Vec<Option<usize>> = runs
        .iter()
        .map(|records| {
            let target = target_loss?;
            records
                .iter()
                .find(|r| !r.diverged && r.train_loss <= target)
                .map(|r| r.epoch)
        })
        .collect();
    SummaryRow {
        experiment: experiment.into(),
        init: init.into(),
        activation: activation.into(),
        runs: finals.len(),
        diverged: finals.len() - ok.len(),
        train_loss: collect(&|r| Some(r.train_loss)),
        train_accuracy: collect(&|r| r.train_accuracy),
        test_loss: collect(&|r| r.test_loss),
        test_accuracy: collect(&|r| r.test_accuracy),
        epochs_to_target: if target_loss.is_some() {
            median_of_reached(&reached)
        } else {
            None
        },
        partial,
    }
}

/// Writes `summary.csv` rows.
pub fn write_summary(w: &mut dyn Write, rows: &[SummaryRow]) -> io::Result<()> {
    writeln!(w, "{SUMMARY_HEADER}")?;
    let pair = |p: Option<(f64, f64)>| match p {
        Some((m, s)) => format!("{},{}", fmt_f64(m), fmt_f64(s)),
        None => ",".to_string(),
    };
    for r in rows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{}",
            field(&r.experiment),
            field(&r.init),
            field(&r.activation),
            r.runs,
            r.diverged,
            pair(r.train_loss),
            pair(r.train_accuracy),
            pair(r.test_loss),
            pair(r.test_accuracy),
            num(r.epochs_to_target),
            r.partial
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: usize, loss: f64, diverged: bool) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: loss,
            train_accuracy: Some(0.5),
            test_loss: None,
            test_accuracy: None,
            gradient_norm: 1.0,
            diverged,
        }
    }

    #[test]
    fn summary_counts_divergence_and_medians() {
        let a = [
            rec(0, 1.0, false),
            rec(10, 0.05, false),
            rec(20, 0.01, false),
        ];
        let b = [
            rec(0, 1.0, false),
            rec(10, 0.5, false),
            rec(20, 0.09, false),
        ];
        let c = [rec(0, 1.0, false), rec(10, f64::NAN, true)];
        let row = summarize("x", "he", "relu", &[&a, &b, &c], Some(0.1), false);
        assert_eq!((row.runs, row.diverged), (3, 1));
        let (m, s) = row.train_loss.unwrap();
        assert!((m - 0.05).abs() < 1e-15);
        assert!((s - (2.0f64 * 0.04 * 0.04).sqrt()).abs() < 1e-15);
        // Reached at 10, 20, never → median 20.
        assert_eq!(row.epochs_to_target, Some(20.0));
        assert_eq!(median_of_reached(&[Some(10), None, None]), None);
        assert_eq!(median_of_reached(&[Some(10), Some(30)]), Some(20.0));
    }

    #[test]
    fn numbers_round_trip_and_fields_are_quoted() {
        assert_eq!(fmt_f64(0.1), "0.1");
        assert_eq!(fmt_f64(f64::NAN), "NaN");
        assert_eq!(fmt_f64(f64::INFINITY), "inf");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(num(None), "");
    }
}
