//! Writing a results directory, whole or not at all.
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
use super::record::{Keyed, Metrics, PointRow, SummaryRow};
use super::runner::RunResult;
use crate::csvfile::write_rows;

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

/// What the CSV files of a results directory are written from.
pub struct Tables<'a, T> {
    /// The experiment (its name and labels make the rows' run keys).
    pub experiment: &'a Experiment,
    /// The runs, in grid order.
    pub runs: &'a [RunResult<T>],
    /// The summary rows.
    pub summary: &'a [SummaryRow],
    /// The training points of 2-D data.
    pub points: Option<&'a [PointRow]>,
}

impl<T> Tables<'_, T> {
    /// Every run's `rows(run)`, in run order, each row with its run's key.
    fn keyed<'r, R: 'r>(
        &'r self,
        rows: impl Fn(&'r RunResult<T>) -> &'r [R] + 'r,
    ) -> impl Iterator<Item = Keyed<&'r R>> + 'r {
        self.runs.iter().flat_map(move |r| {
            let run = self.experiment.key(&r.spec);
            rows(r).iter().map(move |row| Keyed {
                run: run.clone(),
                row,
            })
        })
    }
}

/// Writes metrics.csv, layers.csv, summary.csv, histograms.csv (when histograms were
/// kept) and (for 2-D data) boundary.csv and points.csv into `dir`.
pub fn write_tables<T>(dir: &Path, tables: &Tables<'_, T>) -> Result<()> {
    write_file(dir, "metrics.csv", |w| {
        let rows = tables.keyed(|r| &r.records).map(|k| Keyed {
            run: k.run,
            row: Metrics::from(k.row),
        });
        write_rows(w, rows)
    })?;
    write_file(dir, "layers.csv", |w| {
        write_rows(w, tables.keyed(|r| &r.layers))
    })?;
    write_file(dir, "summary.csv", |w| write_rows(w, tables.summary))?;
    if tables.runs.iter().any(|r| !r.histograms.is_empty()) {
        write_file(dir, "histograms.csv", |w| {
            write_rows(w, tables.keyed(|r| &r.histograms))
        })?;
    }
    if tables.runs.iter().any(|r| !r.boundary.is_empty()) {
        write_file(dir, "boundary.csv", |w| {
            write_rows(w, tables.keyed(|r| &r.boundary))
        })?;
        if let Some(points) = tables.points {
            write_file(dir, "points.csv", |w| write_rows(w, points))?;
        }
    }
    Ok(())
}

/// Writes every run's initial and final weights and biases as `.npy` under `weights/`:
/// `weights/<init>_<activation>_seed<S>_layer<L>_<initial|final>_<weight|bias>.npy`,
/// weight `(out, in)` as `torch.nn.Linear(in, out).weight`.
pub fn write_weights<T: Float + ndarray_npy::WritableElement>(
    dir: &Path,
    experiment: &Experiment,
    results: &[RunResult<T>],
) -> Result<()> {
    let wdir = dir.join("weights");
    fs::create_dir_all(&wdir).with_context(|| format!("cannot create {}", wdir.display()))?;
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
    for r in results {
        let Some(snap) = &r.snapshot else { continue };
        let key = experiment.key(&r.spec);
        let stem = format!(
            "{}_{}_seed{}",
            clean(&key.init),
            clean(&key.activation),
            key.seed
        );
        for (which, layers) in [("initial", &snap.initial), ("final", &snap.final_)] {
            for (l, layer) in layers.iter().enumerate() {
                for (part, write) in [("weight", true), ("bias", false)] {
                    let path = wdir.join(format!("{stem}_layer{}_{which}_{part}.npy", l + 1));
                    let result = if write {
                        ndarray_npy::write_npy(&path, &layer.weight)
                    } else {
                        ndarray_npy::write_npy(&path, &layer.bias)
                    };
                    result.with_context(|| format!("cannot write {}", path.display()))?;
                }
            }
        }
    }
    Ok(())
}
