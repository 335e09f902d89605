//! Combining the shard results directories of one experiment (`experiment --shard K/N`)
//! into the results directory of the whole grid.
//!
//! The shards must come from the same resolved experiment (`config.toml` equal except its
//! `shard` field) and cover every shard `1/N … N/N` exactly once. Rows are put back in the
//! grid order of an unsharded run (start, then activation, then seed), the summary is
//! recomputed from the merged metrics with [`record::summarize`], so `metrics.csv`,
//! `layers.csv`, `summary.csv` and `boundary.csv` are byte-identical to the unsharded run's.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::record::{self, BOUNDARY_HEADER, LAYERS_HEADER, METRICS_HEADER};
use super::spec::{ConfigError, ExperimentSpec, parse_shard};
use super::{ExecError, Experiment, output, runner};
use crate::nn::EpochRecord;

/// What a merge produced.
#[derive(Clone, Debug)]
pub struct MergeOutcome {
    /// The merged results directory.
    pub out: PathBuf,
    /// Runs in the merged grid.
    pub runs: usize,
    /// Shards merged.
    pub shards: usize,
}

/// A run's key in the CSV files: (init label, activation, seed).
type Key = (String, String, String);

/// The rows of one CSV file grouped by run, each group as the raw bytes of its lines.
struct Rows {
    blocks: HashMap<Key, Vec<u8>>,
}

fn config_err(msg: String) -> ExecError {
    ExecError::Config(ConfigError(msg))
}

/// Reads a results CSV and groups its raw lines by run key (columns 2–4).
fn read_rows(path: &Path, experiment: &str) -> Result<Rows, ExecError> {
    let bytes =
        fs::read(path).map_err(|e| config_err(format!("{}: cannot read: {e}", path.display())))?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let mut starts: Vec<(usize, Key)> = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            config_err(format!(
                "{}: not a results CSV written by initlab: {e}",
                path.display()
            ))
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() < 4 {
            return Err(config_err(format!(
                "{}, line {line}: found {} fields, expected at least 4",
                path.display(),
                record.len()
            )));
        }
        if &record[0] != experiment {
            return Err(config_err(format!(
                "{}, line {line}: experiment `{}`, expected `{experiment}` (from config.toml)",
                path.display(),
                &record[0]
            )));
        }
        let start = record.position().map_or(0, |p| p.byte() as usize);
        starts.push((
            start,
            (
                record[1].to_string(),
                record[2].to_string(),
                record[3].to_string(),
            ),
        ));
    }
    let mut blocks: HashMap<Key, Vec<u8>> = HashMap::new();
    for (i, (start, key)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(bytes.len(), |(s, _)| *s);
        blocks
            .entry(key.clone())
            .or_default()
            .extend_from_slice(&bytes[*start..end]);
    }
    Ok(Rows { blocks })
}

/// Parses the metrics rows of one run back into records (numbers round-trip exactly).
fn parse_records(block: &[u8], path: &Path) -> Result<Vec<EpochRecord>, ExecError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(block);
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| config_err(format!("{}: {e}", path.display())))?;
        let bad = |col: &str| {
            config_err(format!(
                "{}: metrics row `{}` has a bad `{col}` value",
                path.display(),
                row.iter().collect::<Vec<_>>().join(",")
            ))
        };
        if row.len() != 11 {
            return Err(bad("field count"));
        }
        let num = |i: usize, col: &str| row[i].parse::<f64>().map_err(|_| bad(col));
        let opt = |i: usize, col: &str| -> Result<Option<f64>, ExecError> {
            if row[i].is_empty() {
                Ok(None)
            } else {
                num(i, col).map(Some)
            }
        };
        out.push(EpochRecord {
            epoch: row[4].parse().map_err(|_| bad("epoch"))?,
            train_loss: num(5, "train_loss")?,
            train_accuracy: opt(6, "train_accuracy")?,
            test_loss: opt(7, "test_loss")?,
            test_accuracy: opt(8, "test_accuracy")?,
            gradient_norm: num(9, "gradient_norm")?,
            diverged: row[10].parse().map_err(|_| bad("diverged"))?,
        });
    }
    Ok(out)
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
/// `out` only when complete); `plots` also draws the SVGs and report.html.
pub fn merge(out: &Path, dirs: &[PathBuf], plots: bool) -> Result<MergeOutcome, ExecError> {
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

    let text = toml::to_string(&spec).context("cannot serialize the experiment")?;
    let exp = Experiment::from_text(
        &text,
        &first_dir.join("config.toml").display().to_string(),
        None,
    )?;
    let labels = exp.init_labels();
    let activations = exp.activation_names();

    // Gather every shard's rows, checking that no run appears twice.
    let mut metrics: HashMap<Key, (Vec<u8>, PathBuf)> = HashMap::new();
    let mut layers: HashMap<Key, Vec<u8>> = HashMap::new();
    let mut boundary: HashMap<Key, Vec<u8>> = HashMap::new();
    let mut points: Option<Vec<u8>> = None;
    for (dir, part, _, _) in &shards {
        let summary_path = dir.join("summary.csv");
        let summary = fs::read_to_string(&summary_path)
            .map_err(|e| config_err(format!("{}: cannot read: {e}", summary_path.display())))?;
        if summary.lines().skip(1).any(|l| l.ends_with(",true")) {
            return Err(config_err(format!(
                "{} holds a partial (interrupted) shard {}/{count}; run that shard again",
                dir.display(),
                part + 1
            )));
        }
        let path = dir.join("metrics.csv");
        for (key, block) in read_rows(&path, &spec.name)?.blocks {
            if let Some((_, other)) = metrics.get(&key) {
                return Err(config_err(format!(
                    "run {} / {} / seed {} appears in both {} and {}",
                    key.0,
                    key.1,
                    key.2,
                    other.display(),
                    dir.display()
                )));
            }
            metrics.insert(key, (block, dir.clone()));
        }
        let path = dir.join("layers.csv");
        if path.exists() {
            layers.extend(read_rows(&path, &spec.name)?.blocks);
        }
        let path = dir.join("boundary.csv");
        if path.exists() {
            boundary.extend(read_rows(&path, &spec.name)?.blocks);
        }
        let path = dir.join("points.csv");
        if points.is_none() && path.exists() {
            points = Some(
                fs::read(&path)
                    .map_err(|e| config_err(format!("{}: cannot read: {e}", path.display())))?,
            );
        }
    }

    // Grid order, as the unsharded run writes it.
    let grid = runner::grid(&spec, labels.len(), None);
    let mut ordered: Vec<(Key, &[u8], &PathBuf)> = Vec::with_capacity(grid.len());
    for run in &grid {
        let key = (
            labels[run.init].clone(),
            activations[run.activation].clone(),
            run.seed.to_string(),
        );
        let Some((block, dir)) = metrics.get(&key) else {
            return Err(config_err(format!(
                "run {} / {} / seed {} is in none of the shards' metrics.csv; expected every run of the grid",
                key.0, key.1, key.2
            )));
        };
        ordered.push((key, block.as_slice(), dir));
    }
    if metrics.len() != grid.len() {
        return Err(config_err(format!(
            "the shards hold {} runs, expected the {} runs of the experiment's grid",
            metrics.len(),
            grid.len()
        )));
    }

    // The summary, recomputed from the merged records with the runner's code path.
    let mut records: Vec<Vec<EpochRecord>> = Vec::with_capacity(grid.len());
    for (_, block, dir) in &ordered {
        records.push(parse_records(block, &dir.join("metrics.csv"))?);
    }
    let mut summary = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        for (a, act) in activations.iter().enumerate() {
            let runs: Vec<&[EpochRecord]> = grid
                .iter()
                .zip(&records)
                .filter(|(r, _)| r.init == i && r.activation == a)
                .map(|(_, rec)| rec.as_slice())
                .collect();
            if runs.is_empty() {
                continue;
            }
            summary.push(record::summarize(
                &spec.name,
                label,
                act,
                &runs,
                spec.training.target_loss,
                false,
            ));
        }
    }

    let staging = output::Staging::new(out)?;
    let dir = &staging.dir;
    output::write_file(dir, "metrics.csv", |w| {
        writeln!(w, "{METRICS_HEADER}")?;
        for (_, block, _) in &ordered {
            w.write_all(block)?;
        }
        Ok(())
    })?;
    output::write_file(dir, "layers.csv", |w| {
        writeln!(w, "{LAYERS_HEADER}")?;
        for (key, _, _) in &ordered {
            if let Some(block) = layers.get(key) {
                w.write_all(block)?;
            }
        }
        Ok(())
    })?;
    output::write_file(dir, "summary.csv", |w| record::write_summary(w, &summary))?;
    if !boundary.is_empty() {
        output::write_file(dir, "boundary.csv", |w| {
            writeln!(w, "{BOUNDARY_HEADER}")?;
            for (key, _, _) in &ordered {
                if let Some(block) = boundary.get(key) {
                    w.write_all(block)?;
                }
            }
            Ok(())
        })?;
        if let Some(points) = &points {
            output::write_file(dir, "points.csv", |w| w.write_all(points))?;
        }
    }
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
    if plots {
        crate::report::draw_all(dir, &exp.formulas())?;
    }
    let out = staging.commit()?;
    Ok(MergeOutcome {
        out,
        runs: grid.len(),
        shards: count,
    })
}
