//! Loading a results directory: its CSV files into the rows of the results schema
//! ([`crate::experiment::record`]), with errors that name the file, the line and the column.

use std::path::{Path, PathBuf};

pub use crate::csvfile::ReadError;
use crate::csvfile::read_rows;
pub use crate::experiment::record::{
    BoundaryRow, HistogramRow, LayerRow, MetricRow, PointRow, QuantileRow, SummaryRow,
};
use crate::experiment::record::{Keyed, point_label, read_keyed, read_summary};

/// Everything the report is drawn from: the files of one results directory.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// The directory read.
    pub dir: PathBuf,
    /// `metrics.csv` (required).
    pub metrics: Vec<MetricRow>,
    /// `layers.csv`, if present.
    pub layers: Option<Vec<LayerRow>>,
    /// `summary.csv`, if present.
    pub summary: Option<Vec<SummaryRow>>,
    /// The text of `config.toml`, if present.
    pub config: Option<String>,
    /// `boundary.csv`, if present.
    pub boundary: Option<Vec<BoundaryRow>>,
    /// `points.csv`, if present.
    pub points: Option<Vec<PointRow>>,
    /// `histograms.csv`, if present.
    pub histograms: Option<Vec<HistogramRow>>,
    /// `quantiles.csv`, if present.
    pub quantiles: Option<Vec<QuantileRow>>,
    /// Init names in order of first appearance (metrics, then layers, summary, boundary).
    pub inits: Vec<String>,
    /// Activation names in order of first appearance.
    pub activations: Vec<String>,
    /// The `[grid]` axis columns of the files, in order (none without a `[grid]`).
    pub axes: Vec<String>,
}

impl Results {
    /// Reads the results directory `dir`. `metrics.csv` is required; every other file is
    /// optional and, when missing, the pictures and sections drawn from it are skipped.
    pub fn load(dir: &Path) -> Result<Self, ReadError> {
        let mut metrics: Vec<MetricRow> = read_keyed(&dir.join("metrics.csv"))?;
        let mut layers: Option<Vec<LayerRow>> = optional(&dir.join("layers.csv"), read_keyed)?;
        let mut summary: Option<Vec<SummaryRow>> =
            optional(&dir.join("summary.csv"), read_summary)?;
        let mut boundary: Option<Vec<BoundaryRow>> =
            optional(&dir.join("boundary.csv"), read_keyed)?;
        let points: Option<Vec<PointRow>> = optional(&dir.join("points.csv"), read_rows)?;
        let mut histograms: Option<Vec<HistogramRow>> =
            optional(&dir.join("histograms.csv"), read_keyed)?;
        let mut quantiles: Option<Vec<QuantileRow>> =
            optional(&dir.join("quantiles.csv"), read_keyed)?;
        // The pictures compare starts: a start at each `[grid]` axis point is a start of its
        // own (`he-normal [norm=batchnorm]`), so no line mixes two points.
        let axes: Vec<String> = metrics
            .first()
            .map(|r| r.run.axes.iter().map(|(c, _)| c.clone()).collect())
            .unwrap_or_default();
        if !axes.is_empty() {
            fn relabel<R>(rows: &mut [Keyed<R>]) {
                for r in rows {
                    r.run.init = point_label(&r.run.init, &r.run.axes);
                }
            }
            relabel(&mut metrics);
            relabel(layers.as_deref_mut().unwrap_or_default());
            relabel(boundary.as_deref_mut().unwrap_or_default());
            relabel(histograms.as_deref_mut().unwrap_or_default());
            relabel(quantiles.as_deref_mut().unwrap_or_default());
            for r in summary.iter_mut().flatten() {
                r.init = point_label(&r.init, &r.axes);
            }
        }
        let config_path = dir.join("config.toml");
        let config = if config_path.exists() {
            Some(
                std::fs::read_to_string(&config_path).map_err(|error| ReadError::Io {
                    path: config_path.clone(),
                    error,
                })?,
            )
        } else {
            None
        };

        let mut inits = Vec::new();
        let mut activations = Vec::new();
        let mut note = |init: &str, act: &str| {
            if !inits.iter().any(|i| i == init) {
                inits.push(init.to_string());
            }
            if !activations.iter().any(|a| a == act) {
                activations.push(act.to_string());
            }
        };
        metrics
            .iter()
            .for_each(|r| note(&r.run.init, &r.run.activation));
        layers
            .iter()
            .flatten()
            .for_each(|r| note(&r.run.init, &r.run.activation));
        summary
            .iter()
            .flatten()
            .for_each(|r| note(&r.init, &r.activation));
        boundary
            .iter()
            .flatten()
            .for_each(|r| note(&r.run.init, &r.run.activation));

        Ok(Results {
            dir: dir.to_path_buf(),
            metrics,
            layers,
            summary,
            config,
            boundary,
            points,
            histograms,
            quantiles,
            inits,
            activations,
            axes,
        })
    }

    /// The experiment's name: `name` from `config.toml`, else from the CSVs, else the
    /// directory's name.
    pub fn name(&self) -> String {
        self.config_str("name")
            .or_else(|| self.metrics.first().map(|r| r.run.experiment.clone()))
            .unwrap_or_else(|| {
                self.dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "experiment".to_string())
            })
    }

    /// The experiment's description from `config.toml`, if any.
    pub fn description(&self) -> Option<String> {
        self.config_str("description")
    }

    /// The class names from `config.toml`'s top-level `classes = [...]` (written for data
    /// whose CSV label column names its classes, class `i` being `classes[i]`); `None` for
    /// numeric labels, an absent or unparsable file, or an entry that is not a string.
    pub fn class_names(&self) -> Option<Vec<String>> {
        let table: toml::Table = self.config.as_deref()?.parse().ok()?;
        table
            .get("classes")?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// A top-level string of `config.toml`; `None` if absent or the file does not parse.
    pub fn config_str(&self, key: &str) -> Option<String> {
        let table: toml::Table = self.config.as_deref()?.parse().ok()?;
        table.get(key)?.as_str().map(str::to_string)
    }
}

/// Reads `path` with `read` if it exists; `Ok(None)` if it does not.
fn optional<T>(
    path: &Path,
    read: fn(&Path) -> Result<Vec<T>, ReadError>,
) -> Result<Option<Vec<T>>, ReadError> {
    if path.exists() {
        read(path).map(Some)
    } else {
        Ok(None)
    }
}
