//! Loading a results directory: the CSV files into typed rows, with errors that name the
//! file, the line and the column.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// An error while reading one file of a results directory.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file was read but its contents are not what was expected.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line number, where known.
        line: Option<u64>,
        /// What was wrong.
        message: String,
    },
}

/// One row of `metrics.csv`: one run at one logged epoch.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricRow {
    /// The experiment's name.
    pub experiment: String,
    /// The initializer's name.
    pub init: String,
    /// The hidden activation's name.
    pub activation: String,
    /// The run's seed.
    pub seed: u64,
    /// The epoch (0 = the untrained network).
    pub epoch: u32,
    /// Mean training loss; `None` when missing.
    pub train_loss: Option<f64>,
    /// Training accuracy as a fraction in [0, 1].
    pub train_accuracy: Option<f64>,
    /// Test loss; `None` when there is no test set.
    pub test_loss: Option<f64>,
    /// Test accuracy as a fraction in [0, 1]; `None` when there is no test set.
    pub test_accuracy: Option<f64>,
    /// Norm of the full gradient.
    pub gradient_norm: Option<f64>,
    /// Whether the run diverged at this epoch (its last row).
    #[serde(deserialize_with = "de_bool")]
    pub diverged: bool,
}

/// One row of `layers.csv`: one layer of one run at one logged epoch.
#[derive(Debug, Clone, Deserialize)]
pub struct LayerRow {
    /// The experiment's name.
    pub experiment: String,
    /// The initializer's name.
    pub init: String,
    /// The hidden activation's name.
    pub activation: String,
    /// The run's seed.
    pub seed: u64,
    /// The epoch (0 = the untrained network).
    pub epoch: u32,
    /// 1-based layer index; the last layer is the output layer.
    pub layer: u32,
    /// Mean of the layer's activations.
    pub activation_mean: Option<f64>,
    /// Standard deviation of the layer's activations.
    pub activation_std: Option<f64>,
    /// Fraction of saturated units; `None` for activations that cannot saturate.
    pub saturated_fraction: Option<f64>,
    /// Fraction of dead units; `None` for activations that are not ReLU-like.
    pub dead_fraction: Option<f64>,
    /// Standard deviation of the back-propagated gradient at this layer.
    pub gradient_std: Option<f64>,
    /// Standard deviation of the layer's weights.
    pub weight_std: Option<f64>,
    /// Size of the last update relative to the weights; `None` at epoch 0.
    pub update_ratio: Option<f64>,
}

/// One row of `summary.csv`: one init × activation over all seeds.
#[derive(Debug, Clone, Deserialize)]
pub struct SummaryRow {
    /// The experiment's name.
    pub experiment: String,
    /// The initializer's name.
    pub init: String,
    /// The hidden activation's name.
    pub activation: String,
    /// Number of runs (seeds).
    pub runs: u32,
    /// Number of runs that diverged.
    pub diverged: u32,
    /// Mean final training loss over seeds.
    pub final_train_loss_mean: Option<f64>,
    /// Standard deviation of the final training loss over seeds.
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
    /// Median number of epochs to reach the target loss; `None` if never reached.
    pub epochs_to_target_median: Option<f64>,
    /// Whether the experiment was interrupted before all runs finished.
    #[serde(deserialize_with = "de_bool")]
    pub partial: bool,
}

/// One row of `boundary.csv`: one grid point of one decision-boundary picture.
#[derive(Debug, Clone, Deserialize)]
pub struct BoundaryRow {
    /// The experiment's name.
    pub experiment: String,
    /// The initializer's name.
    pub init: String,
    /// The hidden activation's name.
    pub activation: String,
    /// The run's seed.
    pub seed: u64,
    /// Grid point, first input.
    pub x: f64,
    /// Grid point, second input.
    pub y: f64,
    /// The predicted class.
    pub class: u32,
    /// The predicted class's probability.
    pub confidence: Option<f64>,
}

/// One row of `points.csv`: one training point of a 2-D data set.
#[derive(Debug, Clone, Deserialize)]
pub struct PointRow {
    /// First input.
    pub x: f64,
    /// Second input.
    pub y: f64,
    /// The class label.
    pub label: u32,
}

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
    /// Init names in order of first appearance (metrics, then layers, summary, boundary).
    pub inits: Vec<String>,
    /// Activation names in order of first appearance.
    pub activations: Vec<String>,
}

impl Results {
    /// Reads the results directory `dir`. `metrics.csv` is required; every other file is
    /// optional and, when missing, the pictures and sections drawn from it are skipped.
    pub fn load(dir: &Path) -> Result<Self, ReadError> {
        let metrics: Vec<MetricRow> = read_csv(&dir.join("metrics.csv"))?;
        let layers: Option<Vec<LayerRow>> = read_optional(&dir.join("layers.csv"))?;
        let summary: Option<Vec<SummaryRow>> = read_optional(&dir.join("summary.csv"))?;
        let boundary: Option<Vec<BoundaryRow>> = read_optional(&dir.join("boundary.csv"))?;
        let points: Option<Vec<PointRow>> = read_optional(&dir.join("points.csv"))?;
        let config_path = dir.join("config.toml");
        let config = if config_path.exists() {
            Some(
                std::fs::read_to_string(&config_path).map_err(|source| ReadError::Io {
                    path: config_path.clone(),
                    source,
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
        metrics.iter().for_each(|r| note(&r.init, &r.activation));
        layers
            .iter()
            .flatten()
            .for_each(|r| note(&r.init, &r.activation));
        summary
            .iter()
            .flatten()
            .for_each(|r| note(&r.init, &r.activation));
        boundary
            .iter()
            .flatten()
            .for_each(|r| note(&r.init, &r.activation));

        Ok(Results {
            dir: dir.to_path_buf(),
            metrics,
            layers,
            summary,
            config,
            boundary,
            points,
            inits,
            activations,
        })
    }

    /// The experiment's name: `name` from `config.toml`, else from the CSVs, else the
    /// directory's name.
    pub fn name(&self) -> String {
        self.config_str("name")
            .or_else(|| self.metrics.first().map(|r| r.experiment.clone()))
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

    /// A top-level string of `config.toml`; `None` if absent or the file does not parse.
    pub fn config_str(&self, key: &str) -> Option<String> {
        let table: toml::Table = self.config.as_deref()?.parse().ok()?;
        table.get(key)?.as_str().map(str::to_string)
    }
}

/// Reads `path` if it exists; `Ok(None)` if it does not.
fn read_optional<T: DeserializeOwned>(path: &Path) -> Result<Option<Vec<T>>, ReadError> {
    if path.exists() {
        read_csv(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Reads a CSV file with a header into rows, columns matched by name (extra columns are
/// ignored; empty fields become `None`).
pub fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, ReadError> {
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let headers = reader
        .headers()
        .map_err(|e| csv_error(path, &e, None))?
        .clone();
    let mut rows = Vec::new();
    for record in reader.deserialize() {
        rows.push(record.map_err(|e| csv_error(path, &e, Some(&headers)))?);
    }
    Ok(rows)
}

/// Turns a csv error into a [`ReadError`] naming the line and, where known, the column.
fn csv_error(path: &Path, err: &csv::Error, headers: Option<&csv::StringRecord>) -> ReadError {
    let line = err.position().map(|p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::Deserialize { err: de, .. } => {
            let column = de
                .field()
                .and_then(|f| headers.and_then(|h| h.get(f as usize)));
            match column {
                Some(c) => format!("column `{c}`: {}", de.kind()),
                None => de.kind().to_string(),
            }
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Io(e) => e.to_string(),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8: {err}"),
        _ => err.to_string(),
    };
    ReadError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// Accepts `true`/`false` (any case), `1`/`0`, and empty (= false).
fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn empty_fields_are_none_and_bools_parse() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "metrics.csv",
            "experiment,init,activation,seed,epoch,train_loss,train_accuracy,test_loss,test_accuracy,gradient_norm,diverged\n\
             x,he-normal,relu,1,0,0.7,0.5,,,1.0,false\n\
             x,he-normal,relu,1,1,inf,,,,NaN,true\n",
        );
        let rows: Vec<MetricRow> = read_csv(&p).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].test_loss, None);
        assert!(!rows[0].diverged);
        assert!(rows[1].diverged);
        assert!(rows[1].train_loss.unwrap().is_infinite());
        assert!(rows[1].gradient_norm.unwrap().is_nan());
    }

    #[test]
    fn bad_value_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "metrics.csv",
            "experiment,init,activation,seed,epoch,train_loss,train_accuracy,test_loss,test_accuracy,gradient_norm,diverged\n\
             x,he-normal,relu,1,0,0.7,0.5,,,1.0,false\n\
             x,he-normal,relu,1,1,oops,,,,1.0,false\n",
        );
        let err = read_csv::<MetricRow>(&p).unwrap_err().to_string();
        assert!(err.contains("metrics.csv"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("train_loss"), "{err}");
    }

    #[test]
    fn bad_bool_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "p.csv", "a\nmaybe\n");
        #[derive(Debug, Deserialize)]
        struct R {
            #[serde(deserialize_with = "de_bool")]
            #[allow(dead_code)]
            a: bool,
        }
        let err = read_csv::<R>(&p).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("maybe"), "{err}");
    }
}
