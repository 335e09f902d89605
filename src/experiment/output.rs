//! Writing a results directory, whole or not at all, run by run as the runs finish.
//!
//! Every file is first written into a fresh temporary directory next to the destination;
//! only when all of them are complete does the temporary directory replace the previous
//! results (renamed aside, then removed). An interrupted or failed write leaves the
//! previous results exactly as they were.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::fsutil::write_atomic_with;
use crate::nn::Float;

use super::Experiment;
use super::record::{ClassSummaryRow, Keyed, Metrics, PointRow, RunKey, Summarizer, SummaryRow};
use super::runner::{RunResult, Snapshot};
use crate::csvfile::{CsvFile, write_rows};
use crate::nn::ParamSet;

/// A staging directory that becomes the results directory on [`Staging::commit`] and is
/// removed if dropped before.
pub struct Staging {
    /// Where files are written now.
    pub dir: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates the staging directory for `target` (creating `target`'s parents).
    pub fn new(target: &Path) -> Result<Self> {
        if target.exists() && !target.is_dir() {
            bail!(
                "output path {} exists and is not a directory; choose another --out",
                target.display()
            );
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "results".into());
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if parent.exists() && !parent.is_dir() {
            bail!(
                "cannot create output directory {}: {} is a file, not a directory",
                target.display(),
                parent.display()
            );
        }
        fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create output directory {}", parent.display()))?;
        let dir = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).ok();
        }
        fs::create_dir(&dir)
            .with_context(|| format!("cannot write into output directory {}", parent.display()))?;
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    /// Like [`Staging::commit`], but into `target` (a sibling of the original target, so
    /// the rename stays within one file system).
    pub fn commit_to(mut self, target: &Path) -> Result<PathBuf> {
        self.target = target.to_path_buf();
        self.commit()
    }

    /// Replaces the target directory by the staged one.
    pub fn commit(mut self) -> Result<PathBuf> {
        let old = self.target.with_file_name(format!(
            ".{}.old-{}",
            self.target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let had_old = self.target.exists();
        if had_old {
            fs::rename(&self.target, &old)
                .with_context(|| format!("cannot replace {}", self.target.display()))?;
        }
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            if had_old {
                fs::rename(&old, &self.target).ok();
            }
            return Err(e).with_context(|| format!("cannot create {}", self.target.display()));
        }
        self.committed = true;
        if had_old {
            fs::remove_dir_all(&old).ok();
        }
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            fs::remove_dir_all(&self.dir).ok();
        }
    }
}

/// Writes `name` in `dir` through a buffered writer, atomically.
pub fn write_file(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let path = dir.join(name);
    write_atomic_with(&path, fill).with_context(|| format!("cannot write {}", path.display()))
}

/// The files of a results directory, written as the runs arrive in grid order: one
/// writer per per-run file (`metrics.csv`, `layers.csv`, `boundary.csv`, `histograms.csv`,
/// `classes.csv`, `quantiles.csv`, `init_scales.csv`, and the weights),
/// each fed run by run, so nothing but the run being written is held in memory; then,
/// at [`ResultsWriter::finish`], `summary.csv` (from a [`Summarizer`] fed alongside) and
/// `points.csv`. The bytes are those of writing every run's rows at once, in grid order.
pub struct ResultsWriter<'a> {
    dir: PathBuf,
    experiment: &'a Experiment,
    metrics: CsvFile,
    layers: CsvFile,
    /// Created with the first boundary row: only runs on 2-D data have any.
    boundary: Option<CsvFile>,
    /// Created with the first histogram row: `--no-histograms` runs have none.
    histograms: Option<CsvFile>,
    /// Created with the first per-class row: only classification runs have any.
    classes: Option<CsvFile>,
    /// Created with the first percentile row: only `training.quantiles` asks for them.
    quantiles: Option<CsvFile>,
    /// Created with the first learned scale: only GradInit and MetaInit learn them.
    init_scales: Option<CsvFile>,
    summary: Summarizer<'a>,
    /// `weights/`, when the weights are written.
    weights: Option<PathBuf>,
}

/// Context for an I/O error on `path`.
fn cannot_write(path: &Path) -> String {
    format!("cannot write {}", path.display())
}

impl<'a> ResultsWriter<'a> {
    /// Starts the files of `experiment`'s results in `dir` (a [`Staging`] directory);
    /// with `save_weights`, also `weights/`.
    pub fn create(dir: &Path, experiment: &'a Experiment, save_weights: bool) -> Result<Self> {
        let open = |name: &str| {
            let path = dir.join(name);
            CsvFile::create(&path).with_context(|| cannot_write(&path))
        };
        let weights = if save_weights {
            let wdir = dir.join("weights");
            fs::create_dir_all(&wdir)
                .with_context(|| format!("cannot create {}", wdir.display()))?;
            Some(wdir)
        } else {
            None
        };
        Ok(ResultsWriter {
            dir: dir.to_path_buf(),
            experiment,
            metrics: open("metrics.csv")?,
            layers: open("layers.csv")?,
            boundary: None,
            histograms: None,
            classes: None,
            quantiles: None,
            init_scales: None,
            summary: Summarizer::new(experiment),
            weights,
        })
    }

    /// Writes one run's rows (runs must come in grid order).
    pub fn write<T: Float + ndarray_npy::WritableElement>(
        &mut self,
        run: &RunResult<T>,
    ) -> Result<()> {
        let key = self.experiment.key(&run.spec);
        write_keyed(
            &mut self.metrics,
            &key,
            run.records.iter().map(Metrics::from),
        )?;
        write_keyed(&mut self.layers, &key, &run.layers)?;
        let dir = &self.dir;
        write_optional(&mut self.boundary, dir, "boundary.csv", &key, &run.boundary)?;
        write_optional(
            &mut self.histograms,
            dir,
            "histograms.csv",
            &key,
            &run.histograms,
        )?;
        write_optional(&mut self.classes, dir, "classes.csv", &key, &run.classes)?;
        write_optional(
            &mut self.quantiles,
            dir,
            "quantiles.csv",
            &key,
            &run.quantiles,
        )?;
        write_optional(
            &mut self.init_scales,
            dir,
            "init_scales.csv",
            &key,
            &run.init_scales,
        )?;
        if let (Some(wdir), Some(snapshot)) = (&self.weights, &run.snapshot) {
            write_run_weights(wdir, &key, snapshot)?;
        }
        self.summary.add(&run.spec, &run.records);
        self.summary
            .add_classes(&run.spec, &run.records, &run.classes);
        Ok(())
    }

    /// Completes the files: flushes the per-run files, writes `summary.csv` (every row
    /// marked `partial` or not) and, when there is a `boundary.csv`, `points.csv`; returns
    /// the summary rows and the per-class summary rows (not written: `classes.csv` holds
    /// every run's).
    pub fn finish(
        self,
        partial: bool,
        points: Option<&[PointRow]>,
    ) -> Result<(Vec<SummaryRow>, Vec<ClassSummaryRow>)> {
        let has_boundary = self.boundary.is_some();
        for file in [
            Some(self.metrics),
            Some(self.layers),
            self.boundary,
            self.histograms,
            self.classes,
            self.quantiles,
            self.init_scales,
        ]
        .into_iter()
        .flatten()
        {
            let path = file.path().to_path_buf();
            file.finish().with_context(|| cannot_write(&path))?;
        }
        let (summary, class_summary) = self.summary.finish_with_classes(partial);
        write_file(&self.dir, "summary.csv", |w| write_rows(w, &summary))?;
        if let (true, Some(points)) = (has_boundary, points) {
            write_file(&self.dir, "points.csv", |w| write_rows(w, points))?;
        }
        Ok((summary, class_summary))
    }
}

/// Appends `rows` to `file`, each with the run's key.
/// Writes a run's rows of a file that only some runs have rows for (`boundary.csv` for 2-D
/// data, `histograms.csv`, `classes.csv`, `quantiles.csv`): the file is created with the
/// first row, so a results directory has no empty files.
fn write_optional<R: serde::Serialize>(
    file: &mut Option<CsvFile>,
    dir: &Path,
    name: &str,
    key: &RunKey,
    rows: &[R],
) -> Result<()> {
    if !rows.is_empty() && file.is_none() {
        let path = dir.join(name);
        *file = Some(CsvFile::create(&path).with_context(|| cannot_write(&path))?);
    }
    match file {
        Some(f) => write_keyed(f, key, rows),
        None => Ok(()),
    }
}

fn write_keyed<R: serde::Serialize>(
    file: &mut CsvFile,
    key: &RunKey,
    rows: impl IntoIterator<Item = R>,
) -> Result<()> {
    for row in rows {
        let row = Keyed {
            run: key.clone(),
            row,
        };
        file.write(&row)
            .with_context(|| cannot_write(file.path()))?;
    }
    Ok(())
}

/// The file-name stem of one run's saved weights, `<init>_<activation>_seed<S>` (with a
/// `[grid]`, `<init>_<activation>_<column>-<value>..._seed<S>`, one part per axis), with
/// every character other than ASCII letters, digits, `-` and `.` replaced by `_`; the
/// files are `<stem>_layer<L>_<initial|final>_<weight|bias>.npy` under `weights/`.
pub fn weight_file_stem(
    init: &str,
    activation: &str,
    axes: &[(String, String)],
    seed: u64,
) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut stem = format!("{}_{}", clean(init), clean(activation));
    for (column, value) in axes {
        stem.push_str(&format!("_{}-{}", clean(column), clean(value)));
    }
    format!("{stem}_seed{seed}")
}

/// Writes one run's initial and final parameters as `.npy` into `wdir` (`weights/`):
/// `<init>_<activation>_seed<S>_layer<L>_<initial|final>_<kind>.npy`, with PyTorch's name
/// for the kind (`weight`, `bias`; a norm layer's gain and shift are its `weight` and
/// `bias`; `alpha`), so each file loads into the PyTorch module's attribute of that name: a
/// dense weight is `(out, in)` as `torch.nn.Linear(in, out).weight`. `L` is the 1-based
/// layer; inside a residual block `L-body<i>` (1-based) or `L-projection`.
fn write_run_weights<T: Float + ndarray_npy::WritableElement>(
    wdir: &Path,
    key: &RunKey,
    snapshot: &Snapshot<T>,
) -> Result<()> {
    let stem = weight_file_stem(&key.init, &key.activation, &key.axes, key.seed);
    for (which, values) in [("initial", &snapshot.initial), ("final", &snapshot.final_)] {
        for (i, info) in snapshot.infos.iter().enumerate() {
            let layer = weight_layer_name(&info.layer);
            let part = info.kind.torch_name();
            let path = wdir.join(format!("{stem}_layer{layer}_{which}_{part}.npy"));
            let array = ndarray::ArrayView::from_shape(info.shape.as_slice(), values.tensor(i))
                .expect("a parameter's values match its shape");
            ndarray_npy::write_npy(&path, &array)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

/// A parameter's layer path (`"2"`, `"3.body.0"`, `"3.projection"`, 0-based) as it appears
/// in weight file names (`3`, `4-body1`, `4-projection`, 1-based).
fn weight_layer_name(path: &str) -> String {
    let mut parts = path.split('.');
    let top: usize = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let mut name = (top + 1).to_string();
    while let Some(part) = parts.next() {
        match part {
            "body" => {
                let i: usize = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
                name.push_str(&format!("-body{}", i + 1));
            }
            other => name.push_str(&format!("-{other}")),
        }
    }
    name
}
