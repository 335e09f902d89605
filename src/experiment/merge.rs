//! Combining the shard results directories of one experiment (`experiment --shard K/N`)
//! into the results directory of the whole grid.
//!
//! The shards must come from the same resolved experiment (`config.toml` equal except its
//! `shard` field) and cover every shard `1/N … N/N` exactly once. The shards' rows are read
//! back through the results schema ([`super::record`]), put back in the grid order of an unsharded
//! run (start, then activation, then seed) and written by the same code as an unsharded
//! run's, the summary recomputed from the merged metrics: `metrics.csv`, `layers.csv`,
//! `summary.csv`, `boundary.csv`, `points.csv`, `histograms.csv`, `classes.csv`, `quantiles.csv`
//! and `init_scales.csv` are
//! byte-identical to the unsharded run's
//! (every number is written in its shortest round-trip form, so it reads back exactly and
//! is written again the same).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::output;
use super::record::read_keyed;
use super::record::{Keyed, Metrics, PointRow, RunKey, SummaryRow};
use super::runner::{self, RunResult};
use super::spec::{ConfigError, ExperimentSpec, parse_shard};
use super::{ExecError, Experiment};
use crate::csvfile::{ReadError, read_rows};

/// What a merge produced.
#[derive(Clone, Debug)]
pub struct MergeOutcome {
    /// The merged results directory.
    pub out: PathBuf,
    /// Runs in the merged grid.
    pub runs: usize,
    /// Shards merged.
    pub shards: usize,
    /// The merged experiment (for the report's formulas).
    pub experiment: Experiment,
}

fn config_err(msg: String) -> ExecError {
    ExecError::Config(ConfigError(msg))
}

fn read_err(e: ReadError) -> ExecError {
    config_err(e.to_string())
}

/// The rows of a per-run file of one shard, grouped by run (rows in file order); every
/// row must belong to `experiment`.
fn read_runs<R: serde::de::DeserializeOwned>(
    path: &Path,
    experiment: &str,
) -> Result<HashMap<RunKey, Vec<R>>, ExecError> {
    let mut runs: HashMap<RunKey, Vec<R>> = HashMap::new();
    for Keyed { run, row } in read_keyed::<R>(path).map_err(read_err)? {
        if run.experiment != experiment {
            return Err(config_err(format!(
                "{}: experiment `{}`, expected `{experiment}` (from config.toml)",
                path.display(),
                run.experiment
            )));
        }
        runs.entry(run).or_default().push(row);
    }
    Ok(runs)
}

/// Like [`read_runs`], for a file a shard may lack (then no rows).
fn read_runs_if_present<R: serde::de::DeserializeOwned>(
    path: &Path,
    experiment: &str,
) -> Result<HashMap<RunKey, Vec<R>>, ExecError> {
    if path.exists() {
        read_runs(path, experiment)
    } else {
        Ok(HashMap::new())
    }
}

/// The first top-level (or section.key) setting where two specs differ, for messages.
fn first_difference(a: &ExperimentSpec, b: &ExperimentSpec) -> String {
    let (Ok(ta), Ok(tb)) = (toml::Value::try_from(a), toml::Value::try_from(b)) else {
        return "?".into();
    };
    let (Some(ta), Some(tb)) = (ta.as_table(), tb.as_table()) else {
        return "?".into();
    };
    let mut keys: Vec<&String> = ta.keys().chain(tb.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        match (ta.get(k), tb.get(k)) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                let mut sub: Vec<&String> = x.keys().chain(y.keys()).collect();
                sub.sort();
                sub.dedup();
                if let Some(s) = sub.into_iter().find(|s| x.get(*s) != y.get(*s)) {
                    return format!("{k}.{s}");
                }
            }
            (x, y) if x != y => return k.clone(),
            _ => {}
        }
    }
    "?".into()
}

/// Merges the shard directories `dirs` into `out` (written atomically, replacing a previous
/// `out` only when complete).
pub fn merge(out: &Path, dirs: &[PathBuf]) -> Result<MergeOutcome, ExecError> {
    if dirs.is_empty() {
        return Err(config_err(
            "no shard directories given; expected `initlab merge OUT DIR...`".into(),
        ));
    }
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    if let Some(d) = dirs.iter().find(|d| same(d, out)) {
        return Err(config_err(format!(
            "{}: the merge output must not be one of the shard directories",
            d.display()
        )));
    }
    // Read and check every shard's config.
    let mut shards: Vec<(PathBuf, usize, usize, ExperimentSpec)> = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            let what = if dir.exists() {
                "is not a directory"
            } else {
                "does not exist"
            };
            return Err(config_err(format!(
                "{}: {what}; expected a shard results directory (from `initlab experiment NAME --shard K/N`)",
                dir.display()
            )));
        }
        let path = dir.join("config.toml");
        let text = fs::read_to_string(&path).map_err(|e| {
            config_err(format!(
                "{}: cannot read: {e}; expected the config.toml of a shard results directory",
                path.display()
            ))
        })?;
        let origin = path.display().to_string();
        let mut spec = ExperimentSpec::from_toml(&text, &origin)?;
        let Some(shard) = spec.shard.take() else {
            return Err(config_err(format!(
                "{origin}: no `shard` setting; expected a shard results directory (from `initlab experiment NAME --shard K/N`)"
            )));
        };
        let (part, count) =
            parse_shard(&shard).map_err(|e| config_err(format!("{origin}: `shard`: {e}")))?;
        shards.push((dir.clone(), part, count, spec));
    }
    let (first_dir, _, count, spec) = shards[0].clone();
    for (dir, part, n, other) in &shards[1..] {
        if *other != spec {
            return Err(config_err(format!(
                "{} and {} come from different experiments: their config.toml differ at `{}`",
                first_dir.display(),
                dir.display(),
                first_difference(&spec, other)
            )));
        }
        if *n != count {
            return Err(config_err(format!(
                "{} is shard {}/{n} but {} is one of {count} shards; expected shards of one split",
                dir.display(),
                part + 1,
                first_dir.display()
            )));
        }
    }
    let mut by_part: Vec<Option<&PathBuf>> = vec![None; count];
    for (dir, part, _, _) in &shards {
        if let Some(prev) = by_part[*part] {
            return Err(config_err(format!(
                "shard {}/{count} given twice: {} and {}",
                part + 1,
                prev.display(),
                dir.display()
            )));
        }
        by_part[*part] = Some(dir);
    }
    let missing: Vec<String> = (0..count)
        .filter(|p| by_part[*p].is_none())
        .map(|p| format!("{}/{count}", p + 1))
        .collect();
    if !missing.is_empty() {
        return Err(config_err(format!(
            "shard(s) {} missing; expected all {count} shards exactly once",
            missing.join(", ")
        )));
    }

    let exp = Experiment::from_spec(
        spec.clone(),
        &first_dir.join("config.toml").display().to_string(),
        None,
    )?;

    // The shards' rows are held until every run is back in grid order: refuse a merge whose
    // rows cannot fit (in memory a row takes about 3× its text).
    let text: u64 = shards
        .iter()
        .flat_map(|(dir, ..)| {
            [
                "metrics.csv",
                "layers.csv",
                "boundary.csv",
                "classes.csv",
                "quantiles.csv",
                "init_scales.csv",
            ]
            .map(|f| dir.join(f))
        })
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    crate::memory::Budget::detect(None)
        .check(&crate::memory::Estimate::from(crate::memory::Part::new(
            format!(
                "merging {} of shard CSV files",
                crate::memory::format_bytes(text)
            ),
            "every shard's rows, held to put them back in grid order",
            text.saturating_mul(3),
        )))
        .map_err(config_err)?;

    // Gather every shard's rows, checking that no run appears twice.
    let mut metrics: HashMap<RunKey, (Vec<Metrics>, &PathBuf)> = HashMap::new();
    let mut layers = HashMap::new();
    let mut boundary = HashMap::new();
    let mut histograms = HashMap::new();
    let mut classes = HashMap::new();
    let mut quantiles = HashMap::new();
    let mut init_scales = HashMap::new();
    let mut points: Option<Vec<PointRow>> = None;
    for (dir, part, _, _) in &shards {
        let summary: Vec<SummaryRow> = read_rows(&dir.join("summary.csv")).map_err(read_err)?;
        if summary.iter().any(|r| r.partial) {
            return Err(config_err(format!(
                "{} holds a partial (interrupted) shard {}/{count}; run that shard again",
                dir.display(),
                part + 1
            )));
        }
        for (key, rows) in read_runs::<Metrics>(&dir.join("metrics.csv"), &spec.name)? {
            if let Some((_, other)) = metrics.get(&key) {
                return Err(config_err(format!(
                    "run {} / {} / seed {} appears in both {} and {}",
                    key.init,
                    key.activation,
                    key.seed,
                    other.display(),
                    dir.display()
                )));
            }
            metrics.insert(key, (rows, dir));
        }
        layers.extend(read_runs_if_present(&dir.join("layers.csv"), &spec.name)?);
        boundary.extend(read_runs_if_present(&dir.join("boundary.csv"), &spec.name)?);
        histograms.extend(read_runs_if_present(
            &dir.join("histograms.csv"),
            &spec.name,
        )?);
        classes.extend(read_runs_if_present(&dir.join("classes.csv"), &spec.name)?);
        quantiles.extend(read_runs_if_present(
            &dir.join("quantiles.csv"),
            &spec.name,
        )?);
        init_scales.extend(read_runs_if_present(
            &dir.join("init_scales.csv"),
            &spec.name,
        )?);
        let path = dir.join("points.csv");
        if points.is_none() && path.exists() {
            points = Some(read_rows(&path).map_err(read_err)?);
        }
    }

    // The runs back in grid order, as the unsharded run has them, written by the same
    // code as an unsharded run's files, the summary recomputed alike.
    let staging = output::Staging::new(out)?;
    let dir = &staging.dir;
    let mut writer = output::ResultsWriter::create(dir, &exp, false)?;
    let grid = runner::Grid::new(&exp, None);
    for run in grid.iter() {
        let key = exp.key(&run);
        let Some((rows, _)) = metrics.remove(&key) else {
            return Err(config_err(format!(
                "run {} / {} / seed {} is in none of the shards' metrics.csv; expected every run of the grid",
                key.init, key.activation, key.seed
            )));
        };
        writer.write(&RunResult::<f64> {
            records: rows.iter().map(Into::into).collect(),
            layers: layers.remove(&key).unwrap_or_default(),
            boundary: boundary.remove(&key).unwrap_or_default(),
            histograms: histograms.remove(&key).unwrap_or_default(),
            classes: classes.remove(&key).unwrap_or_default(),
            quantiles: quantiles.remove(&key).unwrap_or_default(),
            spec: run,
            init_scales: init_scales.remove(&key).unwrap_or_default(),
            snapshot: None,
            lsuv_stuck: Vec::new(),
        })?;
    }
    if !metrics.is_empty() {
        return Err(config_err(format!(
            "the shards hold {} runs, expected the {} runs of the experiment's grid",
            grid.len() + metrics.len(),
            grid.len()
        )));
    }
    writer.finish(false, points.as_deref())?;
    let config = toml::to_string(&spec).context("cannot serialize the merged experiment")?;
    output::write_file(dir, "config.toml", |w| w.write_all(config.as_bytes()))?;
    // Weights saved by the shards (names are unique per run).
    for (shard_dir, _, _, _) in &shards {
        let wdir = shard_dir.join("weights");
        if !wdir.is_dir() {
            continue;
        }
        let target = dir.join("weights");
        fs::create_dir_all(&target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        for entry in
            fs::read_dir(&wdir).with_context(|| format!("cannot read {}", wdir.display()))?
        {
            let entry = entry.with_context(|| format!("cannot read {}", wdir.display()))?;
            let to = target.join(entry.file_name());
            fs::copy(entry.path(), &to)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    let out = staging.commit()?;
    Ok(MergeOutcome {
        out,
        runs: grid.len(),
        shards: count,
        experiment: exp,
    })
}
