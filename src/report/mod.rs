//! The report: SVG pictures and a self-contained `report.html`, drawn from the CSV files of
//! a results directory alone (so a report can be redrawn at any time without rerunning).
//!
//! - [`read`] loads `metrics.csv` (required), `layers.csv`, `summary.csv`, `config.toml`,
//!   `boundary.csv`, `points.csv`, `histograms.csv` and `quantiles.csv` (each optional: what is missing is
//!   skipped); [`histograms`] regroups the histogram rows for drawing.
//! - [`plots`] draws `loss.svg`, `accuracy.svg`, `signal.svg`, `saturation.svg`,
//!   `update-ratio.svg`, `sweep.svg`, `quantiles.svg`, `boundary.svg` and `distributions.svg` with plotters' SVG backend, [`blocks`] `blocks.svg` (residual networks: each block's output std at the start beside the mean-field prediction), [`transfer`] `transfer.svg` (final train loss against log₂ learning rate, one line per width) and [`drift`] `drift.svg` (each layer's weight and feature change from the start against width: lazy or feature learning) (no fonts needed: the
//!   text is written as SVG `<text>` and laid out by whatever shows the picture).
//! - [`html`] builds `report.html` with every picture inline, and [`interactive`] its
//!   explorer: the per-layer histograms and statistics as embedded JSON, drawn by a small
//!   script (`explorer.js`) with an epoch slider; the static pictures stay for readers
//!   without scripts.
//! - [`palette`] gives each start one colour and dash pattern (Okabe–Ito colours), distinct
//!   within a figure and the same in every picture and in the explorer; [`chart`] labels
//!   every axis at round numbers (steps of 1, 2, 5 × 10^k).
//! - Data with named classes (`classes = [...]` in `config.toml`) are shown by name: a
//!   `classes: 0 = setosa, ...` line under the report's title and in the boundary legend.

pub mod blocks;
pub mod chart;
pub mod drift;
pub mod histograms;
pub mod html;
pub mod interactive;
pub mod palette;
pub mod plots;
pub mod read;
pub mod transfer;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use plots::Picture;
pub use read::{ReadError, Results};

/// Reads the CSV files in `dir`, writes every picture that applies and `report.html` into
/// `dir`, and returns the paths written (pictures first, the report last).
///
/// `formulas` maps init names to a one-line formula (e.g. `("he-normal", "N(0, 2/fan_in)")`);
/// the report lists those of the inits present. Fails with a message naming the file and
/// line if a CSV file cannot be read or parsed.
pub fn draw_all(dir: &Path, formulas: &[(String, String)]) -> anyhow::Result<Vec<PathBuf>> {
    let results = Results::load(dir)?;
    let pictures = plots::all(&results)?;
    let mut written = Vec::with_capacity(pictures.len() + 1);
    for p in &pictures {
        let path = dir.join(p.file);
        crate::fsutil::write_atomic(&path, p.svg.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    let page = html::render(&results, &pictures, formulas);
    let path = dir.join("report.html");
    crate::fsutil::write_atomic(&path, page.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    Ok(written)
}
