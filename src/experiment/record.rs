//! The results schema: one serde type per row of each CSV file of a results directory,
//! used by the writer ([`super::output`]), the shard merge ([`super::merge`]) and the
//! report ([`crate::report`]). The columns are the README's column tables.
//!
//! | file           | row              | columns                                   |
//! |----------------|------------------|-------------------------------------------|
//! | `metrics.csv`  | [`MetricRow`]    | [`RunKey`], then [`Metrics`]              |
//! | `layers.csv`   | [`LayerRow`]     | [`RunKey`], then [`LayerStats`]           |
//! | `boundary.csv` | [`BoundaryRow`]  | [`RunKey`], then [`BoundaryPoint`]        |
//! | `histograms.csv` | [`HistogramRow`] | [`RunKey`], then [`HistogramBin`]       |
//! | `classes.csv`  | [`ClassRow`]     | [`RunKey`], then [`ClassStats`]           |
//! | `quantiles.csv` | [`QuantileRow`] | [`RunKey`], then [`LayerQuantiles`]       |
//! | `init_scales.csv` | [`InitScaleRow`] | [`RunKey`], then [`TensorScale`]       |
//! | `summary.csv`  | [`SummaryRow`]   | its own (one start × activation)          |
//! | `points.csv`   | [`PointRow`]     | its own (one training point)              |
//!
//! How rows become text (the `csv` crate, numbers in Rust's shortest round-trip form) is in
//! [`crate::csvfile`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::data::{Dataset, Target};
use crate::nn::EpochRecord;

use super::Experiment;
pub use super::runner::BoundaryPoint;
use super::runner::{RunResult, RunSpec};
pub use crate::nn::histogram::HistogramBin;
pub use crate::nn::init::TensorScale;
pub use crate::nn::quantiles::LayerQuantiles;
pub use crate::nn::stats::LayerStats;

/// Identifies a run: the first columns of every per-run file, the four of
/// [`RunKey::COLUMNS`], then one per `[grid]` axis (none without a `[grid]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunKey {
    /// Experiment name.
    pub experiment: String,
    /// Init label.
    pub init: String,
    /// Activation name.
    pub activation: String,
    /// Seed value.
    pub seed: u64,
    /// The run's value on each `[grid]` axis: `(column, value)`, in the axes' order.
    pub axes: Vec<(String, String)>,
}

impl RunKey {
    /// The key's column names without axes, in order (a test checks they are the
    /// serialized field names).
    pub const COLUMNS: [&'static str; 4] = ["experiment", "init", "activation", "seed"];

    /// The run's value on the axis with this column, if it has one.
    pub fn axis(&self, column: &str) -> Option<&str> {
        axis_value(&self.axes, column)
    }
}

/// A start at a `[grid]` axis point, as a label for tables and pictures:
/// `he-normal [norm=batchnorm, learning_rate=0.1]` (the start alone without axes).
pub fn point_label(init: &str, axes: &[(String, String)]) -> String {
    if axes.is_empty() {
        return init.to_string();
    }
    let values: Vec<String> = axes.iter().map(|(c, v)| format!("{c}={v}")).collect();
    format!("{init} [{}]", values.join(", "))
}

/// The value of the axis `column` in a list of `(column, value)`.
pub fn axis_value<'a>(axes: &'a [(String, String)], column: &str) -> Option<&'a str> {
    axes.iter()
        .find(|(c, _)| c == column)
        .map(|(_, v)| v.as_str())
}

/// A column name that lives as long as the program, as serde's field names must: each
/// distinct name (an axis column, a handful per experiment) is leaked once.
fn static_name(name: &str) -> &'static str {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// Serializes `(column, value)` pairs as more fields of a struct being serialized.
fn serialize_axes<S: serde::ser::SerializeStruct>(
    state: &mut S,
    axes: &[(String, String)],
) -> Result<(), S::Error> {
    for (column, value) in axes {
        state.serialize_field(static_name(column), value)?;
    }
    Ok(())
}

impl Serialize for RunKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("RunKey", 4 + self.axes.len())?;
        state.serialize_field("experiment", &self.experiment)?;
        state.serialize_field("init", &self.init)?;
        state.serialize_field("activation", &self.activation)?;
        state.serialize_field("seed", &self.seed)?;
        serialize_axes(&mut state, &self.axes)?;
        state.end()
    }
}

impl<'de> Deserialize<'de> for RunKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RunKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the columns experiment, init, activation, seed and the grid axes")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RunKey, A::Error> {
                use serde::de::Error;
                let (mut experiment, mut init, mut activation, mut seed) = (None, None, None, None);
                let mut axes = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "experiment" => experiment = Some(map.next_value::<String>()?),
                        "init" => init = Some(map.next_value::<String>()?),
                        "activation" => activation = Some(map.next_value::<String>()?),
                        "seed" => seed = Some(map.next_value::<u64>()?),
                        _ => {
                            let value = map.next_value::<String>()?;
                            axes.push((key, value));
                        }
                    }
                }
                Ok(RunKey {
                    experiment: experiment.ok_or_else(|| A::Error::missing_field("experiment"))?,
                    init: init.ok_or_else(|| A::Error::missing_field("init"))?,
                    activation: activation.ok_or_else(|| A::Error::missing_field("activation"))?,
                    seed: seed.ok_or_else(|| A::Error::missing_field("seed"))?,
                    axes,
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// The `(column, value)` pairs of the columns a reader does not otherwise know: the
/// `[grid]` axes of `summary.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AxisColumns(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for AxisColumns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AxisColumns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("grid axis columns")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<AxisColumns, A::Error> {
                let mut axes = Vec::new();
                while let Some(entry) = map.next_entry::<String, String>()? {
                    axes.push(entry);
                }
                Ok(AxisColumns(axes))
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads `summary.csv`, the columns other than [`SummaryRow`]'s as its `[grid]` axes.
pub fn read_summary(path: &std::path::Path) -> Result<Vec<SummaryRow>, crate::csvfile::ReadError> {
    let own = crate::csvfile::field_names::<SummaryRow>();
    let pairs =
        crate::csvfile::read_split_by::<AxisColumns, SummaryRow>(path, |h| !own.contains(&h))?;
    Ok(pairs
        .into_iter()
        .map(|(axes, row)| SummaryRow {
            axes: axes.0,
            ..row
        })
        .collect())
}

/// A row of a per-run file: the run's key, then the row's own columns.
///
/// The `csv` crate cannot write `#[serde(flatten)]` fields, so the key is flattened by
/// hand: written as the pair `(run, row)` (the crate writes a tuple of structs as one
/// record, with both structs' field names as the header), and read by splitting the
/// columns by name ([`read_keyed`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Keyed<R> {
    /// Which run.
    pub run: RunKey,
    /// The row's own columns.
    pub row: R,
}

impl<R: Serialize> Serialize for Keyed<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.run, &self.row).serialize(serializer)
    }
}

/// The columns of `metrics.csv` after the key: one logged epoch of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Epochs completed (0 = the untrained network).
    pub epoch: usize,
    /// Mean loss over the training set.
    #[serde(deserialize_with = "empty_is_nan")]
    pub train_loss: f64,
    /// Training accuracy as a fraction in [0, 1] (classification only).
    pub train_accuracy: Option<f64>,
    /// Test loss; empty when there is no test set.
    pub test_loss: Option<f64>,
    /// Test accuracy; empty without a test set or for regression.
    pub test_accuracy: Option<f64>,
    /// Euclidean norm of the full training gradient.
    #[serde(deserialize_with = "empty_is_nan")]
    pub gradient_norm: f64,
    /// Whether the run diverged at this epoch (then its last row).
    #[serde(deserialize_with = "de_bool")]
    pub diverged: bool,
}

impl From<&EpochRecord> for Metrics {
    fn from(r: &EpochRecord) -> Self {
        Metrics {
            epoch: r.epoch,
            train_loss: r.train_loss,
            train_accuracy: r.train_accuracy,
            test_loss: r.test_loss,
            test_accuracy: r.test_accuracy,
            gradient_norm: r.gradient_norm,
            diverged: r.diverged,
        }
    }
}

impl From<&Metrics> for EpochRecord {
    fn from(m: &Metrics) -> Self {
        EpochRecord {
            epoch: m.epoch,
            train_loss: m.train_loss,
            train_accuracy: m.train_accuracy,
            test_loss: m.test_loss,
            test_accuracy: m.test_accuracy,
            gradient_norm: m.gradient_norm,
            diverged: m.diverged,
        }
    }
}

/// Which part of the data a per-class row measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataSplit {
    /// The training set (as `train_accuracy` and `train_loss` measure it).
    Train,
    /// The test set (as `test_accuracy` and `test_loss` measure it).
    Test,
}

impl DataSplit {
    /// The name in `classes.csv`: `train` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            DataSplit::Train => "train",
            DataSplit::Test => "test",
        }
    }
}

/// The columns of `classes.csv` after the key: one class of one split of one run at one
/// logged epoch, from the same evaluation pass (the same predictions) as `metrics.csv`'s
/// accuracy and loss of that split, so that
/// `Σ_class count · accuracy / Σ_class count` is the split's accuracy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassStats {
    /// Epochs completed (0 = the untrained network), as in `metrics.csv`.
    pub epoch: usize,
    /// `train` or `test`.
    pub split: DataSplit,
    /// The class: its name for data whose label column names the classes (`setosa`),
    /// else its index (`0`, `1`, ...), the network's output of that number.
    pub class: String,
    /// Rows of the split with this label (its support).
    pub count: usize,
    /// Fraction of those rows predicted as this class (its recall); empty when the
    /// class has no rows in the split.
    pub accuracy: Option<f64>,
    /// Mean loss over those rows; empty when the class has no rows in the split.
    pub loss: Option<f64>,
}

/// One row of `metrics.csv`.
pub type MetricRow = Keyed<Metrics>;
/// One row of `classes.csv`: one class of one split of one run at one logged epoch.
pub type ClassRow = Keyed<ClassStats>;
/// One row of `quantiles.csv`: the percentile bands of one layer's pre-activations or
/// activations (all units, or one) of one run at one logged epoch.
pub type QuantileRow = Keyed<LayerQuantiles>;
/// One row of `init_scales.csv`: the scale a learned start (GradInit, MetaInit) gave one
/// parameter tensor of one run.
pub type InitScaleRow = Keyed<TensorScale>;
/// One row of `layers.csv`: one layer of one run at one logged epoch.
pub type LayerRow = Keyed<LayerStats>;
/// One row of `boundary.csv`: one grid point of one run's decision-boundary picture.
pub type BoundaryRow = Keyed<BoundaryPoint>;
/// One row of `histograms.csv`: one non-empty bin of one layer's histogram of one
/// quantity, of one run at one epoch.
pub type HistogramRow = Keyed<HistogramBin>;

/// One row of `summary.csv`: a start × activation (× `[grid]` axis point) over its seeds.
/// Means and sample standard deviations are over the runs that did not diverge (empty
/// when none). The axes' columns come after `activation` (read back by [`read_summary`]).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SummaryRow {
    /// Experiment name.
    pub experiment: String,
    /// Init label.
    pub init: String,
    /// Activation name.
    pub activation: String,
    /// The group's value on each `[grid]` axis, `(column, value)`; empty without a grid.
    #[serde(skip)]
    pub axes: Vec<(String, String)>,
    /// Runs finished.
    pub runs: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Mean final training loss.
    pub final_train_loss_mean: Option<f64>,
    /// Standard deviation of the final training loss.
    pub final_train_loss_std: Option<f64>,
    /// Mean final training accuracy (fraction).
    pub final_train_accuracy_mean: Option<f64>,
    /// Standard deviation of the final training accuracy.
    pub final_train_accuracy_std: Option<f64>,
    /// Mean final test loss.
    pub final_test_loss_mean: Option<f64>,
    /// Standard deviation of the final test loss.
    pub final_test_loss_std: Option<f64>,
    /// Mean final test accuracy (fraction).
    pub final_test_accuracy_mean: Option<f64>,
    /// Standard deviation of the final test accuracy.
    pub final_test_accuracy_std: Option<f64>,
    /// Median over runs of the first logged epoch with train loss ≤ target; runs that never
    /// reach it count as never (∞), so a median of ∞ is written as empty.
    pub epochs_to_target_median: Option<f64>,
    /// Whether the experiment was interrupted before every run finished.
    #[serde(deserialize_with = "de_bool")]
    pub partial: bool,
}

impl Serialize for SummaryRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("SummaryRow", 15 + self.axes.len())?;
        state.serialize_field("experiment", &self.experiment)?;
        state.serialize_field("init", &self.init)?;
        state.serialize_field("activation", &self.activation)?;
        serialize_axes(&mut state, &self.axes)?;
        state.serialize_field("runs", &self.runs)?;
        state.serialize_field("diverged", &self.diverged)?;
        state.serialize_field("final_train_loss_mean", &self.final_train_loss_mean)?;
        state.serialize_field("final_train_loss_std", &self.final_train_loss_std)?;
        state.serialize_field("final_train_accuracy_mean", &self.final_train_accuracy_mean)?;
        state.serialize_field("final_train_accuracy_std", &self.final_train_accuracy_std)?;
        state.serialize_field("final_test_loss_mean", &self.final_test_loss_mean)?;
        state.serialize_field("final_test_loss_std", &self.final_test_loss_std)?;
        state.serialize_field("final_test_accuracy_mean", &self.final_test_accuracy_mean)?;
        state.serialize_field("final_test_accuracy_std", &self.final_test_accuracy_std)?;
        state.serialize_field("epochs_to_target_median", &self.epochs_to_target_median)?;
        state.serialize_field("partial", &self.partial)?;
        state.end()
    }
}

impl SummaryRow {
    /// The group's value on the axis with this column, if it has one.
    pub fn axis(&self, column: &str) -> Option<&str> {
        axis_value(&self.axes, column)
    }

    /// Final train loss (mean, std), if any run did not diverge.
    pub fn train_loss(&self) -> Option<(f64, f64)> {
        pair(self.final_train_loss_mean, self.final_train_loss_std)
    }

    /// Final train accuracy (mean, std).
    pub fn train_accuracy(&self) -> Option<(f64, f64)> {
        pair(
            self.final_train_accuracy_mean,
            self.final_train_accuracy_std,
        )
    }

    /// Final test accuracy (mean, std).
    pub fn test_accuracy(&self) -> Option<(f64, f64)> {
        pair(self.final_test_accuracy_mean, self.final_test_accuracy_std)
    }
}

fn pair(mean: Option<f64>, std: Option<f64>) -> Option<(f64, f64)> {
    Some((mean?, std?))
}

/// One row of `points.csv`: one training point of a 2-D data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointRow {
    /// First input.
    pub x: f64,
    /// Second input.
    pub y: f64,
    /// The class (a whole number, written without a decimal point) or, for regression,
    /// the target value.
    pub label: f64,
}

/// The training points of a 2-D data set as `points.csv` rows.
pub fn points_of(ds: &Dataset) -> Vec<PointRow> {
    let labels: Vec<f64> = match &ds.target {
        Target::Classes { labels, .. } => labels.iter().map(|&l| l as f64).collect(),
        Target::Values(v) => v.column(0).to_vec(),
    };
    ds.features
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(row, label)| PointRow {
            x: row[0],
            y: row[1],
            label,
        })
        .collect()
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
    let mut group = Group::default();
    for records in runs {
        group.add(records, target_loss);
    }
    SummaryRow {
        partial,
        ..group.row(experiment, init, activation, target_loss)
    }
}

/// Summary rows for every start × activation present in `results`, in grid order.
pub fn summarize_results<T>(
    exp: &Experiment,
    results: &[RunResult<T>],
    partial: bool,
) -> Vec<SummaryRow> {
    let mut summary = Summarizer::new(exp);
    for r in results {
        summary.add(&r.spec, &r.records);
    }
    summary.finish(partial)
}

/// The summary rows of a grid built up run by run, as the runs arrive in grid order, so
/// a grid's summary needs no more than one start × activation's worth of memory.
///
/// The runs of one start × activation are consecutive in grid order, so a group is
/// summarized as soon as a run of the next group arrives. While a group is open, it keeps
/// each run's final values (32 bytes per run: the standard deviation is computed in two
/// passes, mean first, as [`mean_and_std`] does, so the summary is the same to the last
/// bit as one computed from all the runs at once) and counts the epochs at which its runs
/// reached the target (one count per logged epoch, whatever the number of runs).
pub struct Summarizer<'a> {
    exp: &'a Experiment,
    /// The (init, activation, axis point) of the open group and what it has gathered.
    open: Option<((usize, usize, usize), Group)>,
    /// The rows of the groups closed so far.
    rows: Vec<SummaryRow>,
    /// The per-class rows of the groups closed so far.
    class_rows: Vec<ClassSummaryRow>,
}

/// What one start × activation has gathered so far.
#[derive(Default)]
struct Group {
    runs: usize,
    diverged: usize,
    /// Final values of the runs that did not diverge, in run order.
    train_loss: Vec<f64>,
    train_accuracy: Vec<f64>,
    test_loss: Vec<f64>,
    test_accuracy: Vec<f64>,
    /// Runs per first logged epoch at which the train loss reached the target.
    reached: BTreeMap<usize, usize>,
    /// Runs that never reached it.
    never: usize,
    /// Per split and class, in the order the first run listed them: the final accuracy of
    /// each run that did not diverge (and had rows of the class).
    classes: Vec<(DataSplit, String, Vec<f64>)>,
}

impl Group {
    fn add(&mut self, records: &[EpochRecord], target_loss: Option<f64>) {
        if let Some(last) = records.last() {
            self.runs += 1;
            if last.diverged {
                self.diverged += 1;
            } else {
                self.train_loss.push(last.train_loss);
                self.train_accuracy.extend(last.train_accuracy);
                self.test_loss.extend(last.test_loss);
                self.test_accuracy.extend(last.test_accuracy);
            }
        }
        if let Some(target) = target_loss {
            match records
                .iter()
                .find(|r| !r.diverged && r.train_loss <= target)
            {
                Some(r) => *self.reached.entry(r.epoch).or_default() += 1,
                None => self.never += 1,
            }
        }
    }

    /// The median epoch of reaching the target, runs that never did counting as ∞ (then
    /// empty), as [`median_of_reached`] computes it from the list.
    fn median_reached(&self) -> Option<f64> {
        let n = self.reached.values().sum::<usize>() + self.never;
        if n == 0 {
            return None;
        }
        // The k-th smallest value (0-based), ∞ past the runs that reached the target.
        let kth = |k: usize| {
            let mut seen = 0;
            for (&epoch, &count) in &self.reached {
                seen += count;
                if k < seen {
                    return epoch as f64;
                }
            }
            f64::INFINITY
        };
        let m = if n % 2 == 1 {
            kth(n / 2)
        } else {
            (kth(n / 2 - 1) + kth(n / 2)) / 2.0
        };
        m.is_finite().then_some(m)
    }

    fn row(
        &self,
        experiment: &str,
        init: &str,
        activation: &str,
        target: Option<f64>,
    ) -> SummaryRow {
        let (final_train_loss_mean, final_train_loss_std) = mean_and_std(&self.train_loss).unzip();
        let (final_train_accuracy_mean, final_train_accuracy_std) =
            mean_and_std(&self.train_accuracy).unzip();
        let (final_test_loss_mean, final_test_loss_std) = mean_and_std(&self.test_loss).unzip();
        let (final_test_accuracy_mean, final_test_accuracy_std) =
            mean_and_std(&self.test_accuracy).unzip();
        SummaryRow {
            experiment: experiment.into(),
            init: init.into(),
            activation: activation.into(),
            axes: Vec::new(),
            runs: self.runs,
            diverged: self.diverged,
            final_train_loss_mean,
            final_train_loss_std,
            final_train_accuracy_mean,
            final_train_accuracy_std,
            final_test_loss_mean,
            final_test_loss_std,
            final_test_accuracy_mean,
            final_test_accuracy_std,
            epochs_to_target_median: target.and_then(|_| self.median_reached()),
            partial: false,
        }
    }
}

impl<'a> Summarizer<'a> {
    /// No runs yet.
    pub fn new(exp: &'a Experiment) -> Self {
        Summarizer {
            exp,
            open: None,
            rows: Vec::new(),
            class_rows: Vec::new(),
        }
    }

    /// Adds one run's records (a run of the open group or of a later one, in grid order).
    ///
    /// # Panics
    /// If `run` belongs to a group before the open one (runs out of grid order).
    pub fn add(&mut self, run: &RunSpec, records: &[EpochRecord]) {
        let key = (run.init, run.activation, run.point);
        match &self.open {
            Some((open, _)) if *open == key => {}
            Some((open, _)) => {
                assert!(
                    *open < key,
                    "runs out of grid order: {key:?} after {open:?}"
                );
                self.close();
                self.open = Some((key, Group::default()));
            }
            None => self.open = Some((key, Group::default())),
        }
        let target = self.exp.spec.training.target_loss;
        if let Some((_, group)) = &mut self.open {
            group.add(records, target);
        }
    }

    /// Adds one run's per-class rows (`classes.csv`'s), after [`Summarizer::add`] of the
    /// same run: the rows of its last logged epoch count, unless the run diverged.
    pub fn add_classes(&mut self, run: &RunSpec, records: &[EpochRecord], classes: &[ClassStats]) {
        let Some((key, group)) = &mut self.open else {
            return;
        };
        if *key != (run.init, run.activation, run.point)
            || records.last().is_none_or(|r| r.diverged)
        {
            return;
        }
        let last = classes.iter().map(|c| c.epoch).max();
        for c in classes.iter().filter(|c| Some(c.epoch) == last) {
            let at = match group
                .classes
                .iter()
                .position(|(split, class, _)| *split == c.split && *class == c.class)
            {
                Some(at) => at,
                None => {
                    group.classes.push((c.split, c.class.clone(), Vec::new()));
                    group.classes.len() - 1
                }
            };
            group.classes[at].2.extend(c.accuracy);
        }
    }

    /// Summarizes the open group and frees its values.
    fn close(&mut self) {
        if let Some(((init, activation, point), group)) = self.open.take() {
            let spec = &self.exp.spec;
            let (init, activation) = (
                &self.exp.inits[init].label,
                spec.network.activations[activation].name(),
            );
            let axes = self.exp.sweep.key_of(point);
            let row = group.row(&spec.name, init, &activation, spec.training.target_loss);
            self.rows.push(SummaryRow {
                axes: axes.clone(),
                ..row
            });
            for (split, class, values) in group.classes {
                let (accuracy_mean, accuracy_std) = mean_and_std(&values).unzip();
                self.class_rows.push(ClassSummaryRow {
                    init: init.clone(),
                    activation: activation.clone(),
                    axes: axes.clone(),
                    split,
                    class,
                    runs: values.len(),
                    accuracy_mean,
                    accuracy_std,
                });
            }
        }
    }

    /// The summary rows, in grid order, each marked `partial` or not.
    pub fn finish(self, partial: bool) -> Vec<SummaryRow> {
        self.finish_with_classes(partial).0
    }

    /// The summary rows (as [`Summarizer::finish`]) and the per-class summary rows, in grid
    /// order, then split, then class.
    pub fn finish_with_classes(mut self, partial: bool) -> (Vec<SummaryRow>, Vec<ClassSummaryRow>) {
        self.close();
        let rows = self
            .rows
            .into_iter()
            .map(|row| SummaryRow { partial, ..row })
            .collect();
        (rows, self.class_rows)
    }
}

/// The final per-class accuracy of one start × activation over its seeds (the runs that
/// did not diverge), for the summary printed at the end of an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassSummaryRow {
    /// Init label.
    pub init: String,
    /// Activation name.
    pub activation: String,
    /// The group's value on each `[grid]` axis, `(column, value)`.
    pub axes: Vec<(String, String)>,
    /// `train` or `test`.
    pub split: DataSplit,
    /// The class, as in `classes.csv`.
    pub class: String,
    /// Runs with a final accuracy for the class.
    pub runs: usize,
    /// Mean final accuracy of the class (fraction), if any run has one.
    pub accuracy_mean: Option<f64>,
    /// Its sample standard deviation over the runs.
    pub accuracy_std: Option<f64>,
}

/// Reads a bool leniently, for files edited by hand: `true`/`false` (any case), `1`/`0`,
/// and empty (= false).
pub fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" | "" => Ok(false),
                _ => Err(E::custom(format!("expected true or false, found `{v}`"))),
            }
        }
    }
    d.deserialize_str(V)
}

/// Reads a number that initlab always writes, leniently for files edited by hand: an
/// empty field is read as NaN (no value), which the report leaves out like a diverged one.
pub fn empty_is_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Reads a per-run CSV file: the row type's own columns into `R`, the others (the
/// [`RunKey`] columns and the `[grid]` axes) into the key.
pub fn read_keyed<R: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<Vec<Keyed<R>>, crate::csvfile::ReadError> {
    let own = crate::csvfile::field_names::<R>();
    let pairs = if own.is_empty() {
        crate::csvfile::read_split_by(path, |h| RunKey::COLUMNS.contains(&h))?
    } else {
        crate::csvfile::read_split_by(path, |h| !own.contains(&h))?
    };
    Ok(pairs
        .into_iter()
        .map(|(run, row)| Keyed { run, row })
        .collect())
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
        let (m, s) = row.train_loss().unwrap();
        assert!((m - 0.05).abs() < 1e-15);
        assert!((s - (2.0f64 * 0.04 * 0.04).sqrt()).abs() < 1e-15);
        assert_eq!(row.final_test_loss_mean, None);
        // Reached at 10, 20, never → median 20.
        assert_eq!(row.epochs_to_target_median, Some(20.0));
        assert_eq!(median_of_reached(&[Some(10), None, None]), None);
        assert_eq!(median_of_reached(&[Some(10), Some(30)]), Some(20.0));
    }

    #[test]
    fn metrics_convert_both_ways() {
        let r = rec(3, 0.25, false);
        assert_eq!(EpochRecord::from(&Metrics::from(&r)), r);
    }
}
