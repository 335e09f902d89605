//! From a results directory to the per-seed values an expectation is about: the
//! directory's `config.toml` (starts, activations, seeds, target loss, test set),
//! `metrics.csv`, `layers.csv`, `classes.csv` (for a `class` selector) and, for
//! `distinct_units`, `weights/`. A selector that
//! matches nothing or a quantity the experiment does not have is an error naming the
//! expectation and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::experiment::axes::Axis;
use crate::experiment::record::{ClassRow, DataSplit, LayerRow, MetricRow, read_keyed};
use crate::experiment::{Experiment, ExperimentSpec};
use crate::nn::stats::layer_column;

use super::expectation::{Epoch, Expectation, Metric};

/// A results directory, read once for every expectation.
pub struct Results {
    dir: PathBuf,
    /// The resolved experiment of `config.toml`.
    pub spec: ExperimentSpec,
    /// The labels of its starts, in order.
    pub starts: Vec<String>,
    /// The experiment's `[grid]` axes (none without a `[grid]`).
    axes: Vec<Axis>,
    /// The axis values the expectation being measured selects, `(column, value)`.
    selected: Vec<(String, String)>,
    metrics: Vec<MetricRow>,
    layers: Option<Vec<LayerRow>>,
    classes: Option<Vec<ClassRow>>,
}

/// The values of one start × activation, one per seed in seed order (NaN = no value:
/// the run diverged before it; +∞ = never, for `epochs_to_target`).
pub type SeedValues = Vec<(u64, f64)>;

impl Results {
    /// Reads `config.toml` and `metrics.csv` of `dir` (`layers.csv` is read on first use).
    pub fn open(dir: &Path) -> Result<Results, String> {
        if !dir.is_dir() {
            return Err(format!(
                "{}: not a results directory (expected a directory with config.toml and metrics.csv)",
                dir.display()
            ));
        }
        let config = dir.join("config.toml");
        if !config.exists() {
            return Err(format!(
                "{}: no config.toml; is this a results directory written by `initlab experiment`?",
                dir.display()
            ));
        }
        let exp = Experiment::load(&config.display().to_string()).map_err(|e| e.0)?;
        let metrics = read_keyed(&dir.join("metrics.csv")).map_err(|e| e.to_string())?;
        Ok(Results {
            dir: dir.to_path_buf(),
            starts: exp.init_labels(),
            axes: exp.sweep.axes,
            selected: Vec::new(),
            spec: exp.spec,
            metrics,
            layers: None,
            classes: None,
        })
    }

    fn layers(&mut self) -> Result<&[LayerRow], String> {
        if self.layers.is_none() {
            let rows = read_keyed(&self.dir.join("layers.csv")).map_err(|e| e.to_string())?;
            self.layers = Some(rows);
        }
        Ok(self.layers.as_deref().expect("just read"))
    }

    fn classes(&mut self) -> Result<&[ClassRow], String> {
        if self.classes.is_none() {
            let path = self.dir.join("classes.csv");
            if !path.exists() {
                return Err(format!(
                    "`class` needs the per-class results {}, which is missing: initlab writes it for data with class labels (regression has no classes); results written before initlab measured classes have none: run the experiment again",
                    path.display()
                ));
            }
            let rows = read_keyed(&path).map_err(|e| e.to_string())?;
            self.classes = Some(rows);
        }
        Ok(self.classes.as_deref().expect("just read"))
    }

    /// The activation an expectation selects: its own, or the experiment's only one.
    fn activation(&self, e: &Expectation) -> Result<String, String> {
        let all: Vec<String> = self
            .spec
            .network
            .activations
            .iter()
            .map(|a| a.name())
            .collect();
        match &e.activation {
            Some(a) if all.contains(a) => Ok(a.clone()),
            Some(a) => Err(format!(
                "`activation` = \"{a}\" matches nothing; the experiment's activations are: {}",
                all.join(", ")
            )),
            None if all.len() == 1 => Ok(all[0].clone()),
            None => Err(format!(
                "set `activation`: the experiment compares several ({})",
                all.join(", ")
            )),
        }
    }

    /// The value of every `[grid]` axis an expectation selects: those its `where` names
    /// (by `[grid]` key or column), and the only value of any other axis.
    fn selection(&self, e: &Expectation) -> Result<Vec<(String, String)>, String> {
        let keys = || {
            self.axes
                .iter()
                .map(|a| format!("\"{}\"", a.key))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (key, _) in &e.where_ {
            if !self.axes.iter().any(|a| a.key == *key || a.column == *key) {
                return Err(if self.axes.is_empty() {
                    format!("`where` names \"{key}\", but the experiment has no `[grid]` axes")
                } else {
                    format!(
                        "`where` names \"{key}\", which the experiment does not sweep; its `[grid]` axes are: {}",
                        keys()
                    )
                });
            }
        }
        let mut selected = Vec::new();
        for axis in &self.axes {
            let given = e
                .where_
                .iter()
                .find(|(k, _)| *k == axis.key || *k == axis.column);
            let text = match given {
                Some((_, v)) => {
                    let text = crate::experiment::axes::value_text(v);
                    if !axis.texts.contains(&text) {
                        return Err(format!(
                            "`where` \"{}\" = {v} matches no value of the axis; its values are: {}",
                            axis.key,
                            axis.texts.join(", ")
                        ));
                    }
                    text
                }
                None if axis.texts.len() == 1 => axis.texts[0].clone(),
                None => {
                    return Err(format!(
                        "set `where`: the experiment sweeps \"{}\" ({}); e.g. where = {{ \"{}\" = {} }}",
                        axis.key,
                        axis.texts.join(", "),
                        axis.key,
                        axis.values[0]
                    ));
                }
            };
            selected.push((axis.column.clone(), text));
        }
        Ok(selected)
    }

    /// The start a selector names (`key` is `start` or `versus`), or the only one.
    fn start(&self, given: Option<&String>, key: &str) -> Result<String, String> {
        match given {
            Some(s) if self.starts.contains(s) => Ok(s.clone()),
            Some(s) => Err(format!(
                "`{key}` = \"{s}\" matches no start; the experiment's starts are: {}",
                self.starts.join(", ")
            )),
            None if self.starts.len() == 1 => Ok(self.starts[0].clone()),
            None => Err(format!(
                "set `start`: the experiment compares several ({})",
                self.starts.join(", ")
            )),
        }
    }

    /// The per-seed values an expectation looks at: the quantity for its start, or the
    /// per-seed difference start − versus (seeds paired).
    pub fn values(&mut self, e: &Expectation) -> Result<SeedValues, String> {
        self.selected = self.selection(e)?;
        let activation = self.activation(e)?;
        let start = self.start(e.start.as_ref(), "start")?;
        let values = self.values_of(e, &start, &activation)?;
        let Some(versus) = &e.versus else {
            return Ok(values);
        };
        let versus = self.start(Some(versus), "versus")?;
        let other: BTreeMap<u64, f64> = self
            .values_of(e, &versus, &activation)?
            .into_iter()
            .collect();
        values
            .into_iter()
            .map(|(seed, v)| match other.get(&seed) {
                Some(w) => Ok((seed, v - w)),
                None => Err(format!(
                    "seed {seed} has results for `{start}` but not for `{versus}`"
                )),
            })
            .collect()
    }

    fn values_of(
        &mut self,
        e: &Expectation,
        start: &str,
        activation: &str,
    ) -> Result<SeedValues, String> {
        let mut runs: BTreeMap<u64, Vec<&MetricRow>> = BTreeMap::new();
        for row in &self.metrics {
            if row.run.init == start
                && row.run.activation == activation
                && row.run.axes == self.selected
            {
                runs.entry(row.run.seed).or_default().push(row);
            }
        }
        if runs.is_empty() {
            return Err(format!(
                "no runs of `{start}` with {activation} in {}/metrics.csv",
                self.dir.display()
            ));
        }
        let q = e.quantity;
        use Metric::*;
        if let Some(class) = &e.class {
            let runs = runs_of(&self.metrics, start, activation, &self.selected);
            return self.class_values(e, class, &runs);
        }
        match q {
            TrainLoss | TrainAccuracy | TestLoss | TestAccuracy | GradientNorm => {
                let mut out = Vec::new();
                for (&seed, rows) in &runs {
                    let row = pick_epoch(rows, e.epoch, |r| r.row.epoch)?;
                    let m = &row.row;
                    let v = match q {
                        TrainLoss => Some(m.train_loss),
                        TrainAccuracy => m.train_accuracy,
                        TestLoss => m.test_loss,
                        TestAccuracy => m.test_accuracy,
                        _ => Some(m.gradient_norm),
                    };
                    let v = match v {
                        Some(v) => v,
                        None if m.diverged => f64::NAN,
                        None => return Err(self.missing(q)),
                    };
                    out.push((seed, if m.diverged { f64::NAN } else { v }));
                }
                Ok(out)
            }
            Diverged => Ok(runs
                .iter()
                .map(|(&seed, rows)| {
                    (
                        seed,
                        f64::from(u8::from(rows.iter().any(|r| r.row.diverged))),
                    )
                })
                .collect()),
            EpochsToTarget => {
                let target = e.target.or(self.spec.training.target_loss).ok_or_else(|| {
                    "quantity `epochs_to_target` needs a target: set `target` or the experiment's `training.target_loss`".to_string()
                })?;
                Ok(runs
                    .iter()
                    .map(|(&seed, rows)| {
                        let reached = rows
                            .iter()
                            .find(|r| !r.row.diverged && r.row.train_loss <= target)
                            .map_or(f64::INFINITY, |r| r.row.epoch as f64);
                        (seed, reached)
                    })
                    .collect())
            }
            DistinctUnits => {
                let layer = e.layer.unwrap_or(1);
                let hidden = self.spec.network.hidden.len();
                if layer > hidden {
                    return Err(format!(
                        "`layer` = {layer}: distinct units are counted in hidden layers 1..={hidden}"
                    ));
                }
                let which = if e.epoch == Epoch::At(0) {
                    "initial"
                } else {
                    "final"
                };
                let seeds: Vec<u64> = runs.keys().copied().collect();
                seeds
                    .into_iter()
                    .map(|seed| {
                        let stem = crate::experiment::output::weight_file_stem(
                            start,
                            activation,
                            &self.selected,
                            seed,
                        );
                        let n = distinct_units_in(&self.dir, &stem, layer, which)?;
                        Ok((seed, n as f64))
                    })
                    .collect()
            }
            _ => self.layer_values(e, start, activation),
        }
    }

    /// The per-class accuracy or loss of `class`, per seed, at the expectation's epoch
    /// (picked among the run's `metrics.csv` rows, as for the overall quantity).
    fn class_values(
        &mut self,
        e: &Expectation,
        class: &str,
        runs: &BTreeMap<u64, Vec<(usize, bool)>>,
    ) -> Result<SeedValues, String> {
        let q = e.quantity;
        let split = match q {
            Metric::TrainAccuracy | Metric::TrainLoss => DataSplit::Train,
            _ => DataSplit::Test,
        };
        let (start, activation) = (self.start(e.start.as_ref(), "start")?, self.activation(e)?);
        let missing_test = self.missing(q);
        let selected = self.selected.clone();
        let rows = self.classes()?;
        let mut known: Vec<&str> = Vec::new();
        for r in rows {
            if !known.contains(&r.row.class.as_str()) {
                known.push(&r.row.class);
            }
        }
        if !known.contains(&class) {
            return Err(format!(
                "`class` = \"{class}\" matches no class; the data's classes are: {}",
                known.join(", ")
            ));
        }
        let mut out = Vec::new();
        for (&seed, logged) in runs {
            let (epoch, diverged) =
                *pick_epoch(&logged.iter().collect::<Vec<_>>(), e.epoch, |r| r.0)?;
            if diverged {
                out.push((seed, f64::NAN));
                continue;
            }
            let row = rows.iter().find(|r| {
                r.row.epoch == epoch
                    && r.row.split == split
                    && r.row.class == class
                    && r.run.seed == seed
                    && r.run.init == start
                    && r.run.activation == activation
                    && r.run.axes == selected
            });
            let Some(row) = row else {
                if split == DataSplit::Test {
                    return Err(missing_test);
                }
                return Err(format!(
                    "no row of class `{class}` for `{start}` with {activation}, seed {seed}, epoch {epoch} in {}/classes.csv",
                    self.dir.display()
                ));
            };
            let v = match q {
                Metric::TrainAccuracy | Metric::TestAccuracy => row.row.accuracy,
                _ => row.row.loss,
            };
            let Some(v) = v else {
                return Err(format!(
                    "class `{class}` has no rows in the {} set of seed {seed}, so it has no `{}`",
                    split.name(),
                    q.key()
                ));
            };
            out.push((seed, v));
        }
        Ok(out)
    }

    fn layer_values(
        &mut self,
        e: &Expectation,
        start: &str,
        activation: &str,
    ) -> Result<SeedValues, String> {
        let dir = self.dir.display().to_string();
        let q = e.quantity;
        let wanted: Vec<usize> = match (e.layers, e.layer) {
            (Some((a, b)), _) => vec![a, b],
            (None, Some(l)) => vec![l],
            (None, None) => unreachable!("checked: per-layer quantities have a layer"),
        };
        let selected = self.selected.clone();
        let rows = self.layers()?;
        // The layers measured, not `network.hidden`: an explicit `network.layers` list or
        // residual blocks make other stages (one row per stage, the output layer last).
        let depth = rows.iter().map(|r| r.row.layer).max().unwrap_or(0);
        if let Some(&l) = wanted.iter().find(|&&l| l > depth) {
            return Err(format!(
                "`layer` {l} does not exist: the network has layers 1..={depth} ({depth} = the output layer)"
            ));
        }
        let mut runs: BTreeMap<u64, Vec<&LayerRow>> = BTreeMap::new();
        for row in rows {
            if row.run.init == start && row.run.activation == activation && row.run.axes == selected
            {
                runs.entry(row.run.seed).or_default().push(row);
            }
        }
        if runs.is_empty() {
            return Err(format!(
                "no rows of `{start}` with {activation} in {dir}/layers.csv"
            ));
        }
        let mut out = Vec::new();
        for (&seed, rows) in &runs {
            // The epoch is picked among this run's logged epochs of the first wanted layer.
            let first: Vec<&LayerRow> = rows
                .iter()
                .copied()
                .filter(|r| r.row.layer == wanted[0])
                .collect();
            let epoch = pick_epoch(&first, e.epoch, |r| r.row.epoch)?.row.epoch;
            let at = |layer: usize| -> Option<&crate::experiment::record::LayerStats> {
                rows.iter()
                    .find(|r| r.row.layer == layer && r.row.epoch == epoch)
                    .map(|r| &r.row)
            };
            let stats = at(wanted[0]).expect("picked from these rows");
            let v = match q {
                Metric::Layer(key) => layer_column(key).and_then(|c| (c.value)(stats)),
                Metric::ActivationStdFactor => {
                    let (a, b) = (wanted[0], wanted[1]);
                    let last =
                        at(b).ok_or_else(|| format!("layer {b} has no row at epoch {epoch}"))?;
                    Some((last.activation_std / stats.activation_std).powf(1.0 / (b - a) as f64))
                }
                _ => unreachable!("per-layer quantities only"),
            };
            let v = match v {
                Some(v) => v,
                None => {
                    let why = match q {
                        Metric::Layer(key) => layer_column(key).and_then(|c| c.only),
                        _ => None,
                    };
                    return Err(format!(
                        "quantity `{}` has no value for layer {} with {activation} at epoch {epoch}: {}",
                        q.key(),
                        wanted[0],
                        why.unwrap_or("it was not measured")
                    ));
                }
            };
            out.push((seed, v));
        }
        Ok(out)
    }

    fn missing(&self, q: Metric) -> String {
        match q {
            Metric::TestLoss | Metric::TestAccuracy if self.spec.data.test_fraction == 0.0 => {
                format!(
                    "quantity `{}` does not exist for experiment `{}`: it has no test set (data.test_fraction = 0)",
                    q.key(),
                    self.spec.name
                )
            }
            _ => format!(
                "quantity `{}` does not exist for experiment `{}` (accuracy needs class labels; regression has none)",
                q.key(),
                self.spec.name
            ),
        }
    }
}

/// The logged epochs of each seed of one start × activation, with whether the run had
/// diverged there, from `metrics.csv`.
fn runs_of(
    metrics: &[MetricRow],
    start: &str,
    activation: &str,
    selected: &[(String, String)],
) -> BTreeMap<u64, Vec<(usize, bool)>> {
    let mut runs: BTreeMap<u64, Vec<(usize, bool)>> = BTreeMap::new();
    for row in metrics {
        if row.run.init == start && row.run.activation == activation && row.run.axes == selected {
            runs.entry(row.run.seed)
                .or_default()
                .push((row.row.epoch, row.row.diverged));
        }
    }
    runs
}

/// The row of a run at the expectation's epoch: its last one for `final`, else the row
/// logged at that epoch (an error lists the logged epochs).
fn pick_epoch<'a, R>(
    rows: &[&'a R],
    epoch: Epoch,
    of: impl Fn(&R) -> usize,
) -> Result<&'a R, String> {
    match epoch {
        Epoch::Final => rows
            .iter()
            .copied()
            .max_by_key(|r| of(r))
            .ok_or_else(|| "no rows".to_string()),
        Epoch::At(n) => {
            if let Some(r) = rows.iter().copied().find(|r| of(r) == n) {
                return Ok(r);
            }
            let mut logged: Vec<usize> = rows.iter().map(|r| of(r)).collect();
            logged.sort_unstable();
            logged.dedup();
            let last = *logged.last().unwrap_or(&0);
            // A run that diverged before epoch n has no value there: NaN, not an error.
            if n > last && logged.len() > 1 {
                return Err(format!(
                    "`epoch` = {n} was not logged; the last logged epoch is {last} (use epoch = \"final\")"
                ));
            }
            let shown: Vec<String> = logged.iter().take(8).map(|e| e.to_string()).collect();
            let more = if logged.len() > 8 { ", ..." } else { "" };
            Err(format!(
                "`epoch` = {n} was not logged; logged epochs: {}{more} (see training.log_every)",
                shown.join(", ")
            ))
        }
    }
}

/// The distinct hidden units of one run's layer, from its saved weights.
fn distinct_units_in(
    dir: &Path,
    run_stem: &str,
    layer: usize,
    which: &str,
) -> Result<usize, String> {
    let stem = format!("{run_stem}_layer{layer}_{which}");
    let wdir = dir.join("weights");
    let weight = wdir.join(format!("{stem}_weight.npy"));
    let bias = wdir.join(format!("{stem}_bias.npy"));
    if !weight.exists() {
        return Err(format!(
            "quantity `distinct_units` needs the saved weights ({} is missing): run the experiment with --save-weights",
            weight.display()
        ));
    }
    let read2 = |p: &Path| -> Result<ndarray::Array2<f64>, String> {
        ndarray_npy::read_npy::<_, ndarray::Array2<f64>>(p)
            .or_else(|_| {
                ndarray_npy::read_npy::<_, ndarray::Array2<f32>>(p).map(|a| a.mapv(f64::from))
            })
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let read1 = |p: &Path| -> Result<ndarray::Array1<f64>, String> {
        ndarray_npy::read_npy::<_, ndarray::Array1<f64>>(p)
            .or_else(|_| {
                ndarray_npy::read_npy::<_, ndarray::Array1<f32>>(p).map(|a| a.mapv(f64::from))
            })
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let w = read2(&weight)?;
    let b = read1(&bias)?;
    let mut dense = crate::nn::Dense::<f64>::zeros(w.ncols(), w.nrows());
    dense.weight = w;
    dense.bias = b;
    Ok(crate::claims::distinct_units(&dense))
}
