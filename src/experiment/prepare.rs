//! From a data spec to the arrays a run trains on: load or generate once, then per
//! replicate split, standardize (training statistics only) and convert to the precision.

use std::path::Path;

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{self, CsvOptions, Dataset, LabelColumn, Standardizer, Target, TaskKind};
use crate::nn::{Float, Loss, TargetsView};

use super::spec::{ConfigError, DataSpec, LabelSpec, resolve_path};

/// An error while loading data (exit code 1 for I/O, 2 for bad content is decided by the
/// caller; the message names the file, line and value).
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The data file could not be read or parsed.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// The data do not fit the network or loss.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Loads or generates the data set of an experiment.
pub fn load(spec: &DataSpec, base: Option<&Path>) -> Result<Dataset, PrepareError> {
    load_named(spec, base).map(|(ds, _)| ds)
}

/// Loads or generates the data set of an experiment, with its class names when the data
/// name their classes (a CSV label column of names such as `setosa`).
pub fn load_named(
    spec: &DataSpec,
    base: Option<&Path>,
) -> Result<(Dataset, Option<Vec<String>>), PrepareError> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.data_seed.unwrap_or(0));
    let samples = spec.samples;
    let mut class_names = None;
    let mut ds = match spec.source.as_str() {
        "xor" => data::xor(),
        "circles" => data::circles(
            samples.unwrap_or(400),
            spec.noise.unwrap_or(0.05),
            spec.factor.unwrap_or(0.5),
            &mut rng,
        ),
        "moons" => data::moons(samples.unwrap_or(400), spec.noise.unwrap_or(0.1), &mut rng),
        "spiral" => data::spiral(
            spec.points_per_class.unwrap_or(100),
            spec.classes.unwrap_or(3),
            &mut rng,
        ),
        "blobs" => data::blobs(
            samples.unwrap_or(300),
            spec.classes.unwrap_or(3),
            spec.noise.unwrap_or(1.0),
            &mut rng,
        ),
        "csv" => {
            let loaded = data::load_csv_with(&csv_path(spec, base), &csv_options(spec, base))?;
            class_names = loaded.class_names;
            loaded.dataset
        }
        "idx" => {
            let images = resolve_path(spec.images.as_deref().expect("validated"), base);
            let labels = resolve_path(spec.labels.as_deref().expect("validated"), base);
            data::load_idx(&images, &labels)?
        }
        other => {
            return Err(ConfigError(format!("unknown data source `{other}`")).into());
        }
    };
    if let Some(max) = spec.max_rows
        && max < ds.len()
    {
        let rows: Vec<usize> = (0..max).collect();
        ds = ds.select(&rows);
    }
    Ok((ds, class_names))
}

/// The CSV file of a `csv` data spec, resolved against `base`.
fn csv_path(spec: &DataSpec, base: Option<&Path>) -> std::path::PathBuf {
    resolve_path(spec.path.as_deref().expect("validated"), base)
}

/// How to read the CSV file of a data spec: its label column, task and separator (the
/// spec's `delimiter`, else tab for `.tsv`, else comma).
fn csv_options(spec: &DataSpec, base: Option<&Path>) -> CsvOptions {
    let label = match &spec.label {
        None => LabelColumn::default(),
        Some(LabelSpec::Name(n)) => LabelColumn::Name(n.clone()),
        Some(LabelSpec::Index(i)) => LabelColumn::Index(*i),
    };
    let task = match spec.task.as_deref() {
        Some("regression") => TaskKind::Regression,
        _ => TaskKind::Classification,
    };
    let delimiter = match &spec.delimiter {
        Some(d) => super::spec::parse_delimiter(d).expect("validated"),
        None => CsvOptions::delimiter_for(&csv_path(spec, base)),
    };
    CsvOptions {
        label,
        task,
        delimiter,
    }
}

/// Checks that the loss fits the data and returns the output width.
pub fn output_width(ds: &Dataset, loss: Loss) -> Result<usize, ConfigError> {
    match &ds.target {
        Target::Classes { n_classes, .. } => {
            loss.outputs_for_classes(*n_classes).map_err(ConfigError)
        }
        Target::Values(v) => {
            if loss.accepts_values() {
                Ok(v.ncols())
            } else {
                Err(ConfigError(format!(
                    "loss `{loss}` needs integer class labels, but the data have real-valued targets; use `mse`"
                )))
            }
        }
    }
}

/// Targets owned in the engine's precision.
#[derive(Clone, Debug)]
pub enum OwnedTargets<T> {
    /// Class labels.
    Classes(Vec<usize>),
    /// Real targets (rows, k).
    Values(Array2<T>),
}

impl<T: Float> OwnedTargets<T> {
    /// A borrowed view.
    pub fn view(&self) -> TargetsView<'_, T> {
        match self {
            OwnedTargets::Classes(c) => TargetsView::Classes(c),
            OwnedTargets::Values(v) => TargetsView::Values(v.view()),
        }
    }
}

/// One split in the engine's precision.
#[derive(Clone, Debug)]
pub struct SplitData<T> {
    /// Inputs (n, features).
    pub x: Array2<T>,
    /// Targets.
    pub targets: OwnedTargets<T>,
}

impl<T: Float> SplitData<T> {
    fn from_dataset(ds: &Dataset) -> Self {
        SplitData {
            x: ds.features.mapv(T::of),
            targets: match &ds.target {
                Target::Classes { labels, .. } => OwnedTargets::Classes(labels.clone()),
                Target::Values(v) => OwnedTargets::Values(v.mapv(T::of)),
            },
        }
    }

    /// As the engine's borrowed split.
    pub fn view(&self) -> crate::nn::Split<'_, T> {
        crate::nn::Split {
            x: self.x.view(),
            targets: self.targets.view(),
        }
    }
}

/// The train and test data of one replicate.
#[derive(Clone, Debug)]
pub struct Prepared<T> {
    /// Training split.
    pub train: SplitData<T>,
    /// Test split, if `test_fraction > 0`.
    pub test: Option<SplitData<T>>,
    /// The training split in f64 before conversion (for plots of the points).
    pub train_f64: Dataset,
}

/// Splits and standardizes for one replicate, with the replicate's split RNG.
pub fn prepare<T: Float>(ds: &Dataset, spec: &DataSpec, split_rng: &mut ChaCha8Rng) -> Prepared<T> {
    let (mut train, mut test) = if spec.test_fraction > 0.0 {
        ds.split(spec.test_fraction, split_rng)
    } else {
        (ds.clone(), None)
    };
    if spec.standardize {
        let scaler = Standardizer::fit(&train);
        scaler.apply(&mut train);
        if let Some(t) = test.as_mut() {
            scaler.apply(t);
        }
    }
    Prepared {
        train: SplitData::from_dataset(&train),
        test: test.as_ref().map(SplitData::from_dataset),
        train_f64: train,
    }
}

/// What the layer engine ([`crate::nn::Network`]) needs of an experiment on these data, for
/// each compared activation that runs on it: every start valid at every dense layer's place
/// and, with BatchNorm,
/// no training batch of a single row (the full batch, or the last mini-batch of an epoch).
/// Builds each network once: call it after the memory guard.
pub fn check_layer_engine(
    exp: &super::Experiment,
    ds: &Dataset,
    outputs: usize,
) -> Result<(), ConfigError> {
    let spec = &exp.spec;
    let network = &spec.network;
    let err = |m: String| ConfigError(format!("{}: {m}", exp.origin));
    for &activation in &network.activations {
        if network.runs_as_mlp(activation) {
            continue;
        }
        let built = super::build::network_layers::<f32>(
            &network.shape(),
            ds.n_features(),
            outputs,
            activation,
            network.loss,
        )
        .map_err(err)?;
        for (i, start) in exp.inits.iter().enumerate() {
            built.check_start(&start.init).map_err(|e| {
                err(format!(
                    "inits[{i}] (`{}`) with {activation}: {e}",
                    start.label
                ))
            })?;
        }
        if built.has_batch_norm() {
            let rows = ds.len() - crate::data::test_count(ds.len(), spec.data.test_fraction);
            let batch = spec.training.batch_size.unwrap_or(usize::MAX).min(rows);
            if rows % batch == 1 || batch == 1 {
                return Err(err(format!(
                    "BatchNorm needs at least 2 rows in every training batch, but the \
                     {rows} training rows in batches of `training.batch_size` = {batch} \
                     leave one row in a batch; choose another batch_size"
                )));
            }
        }
    }
    Ok(())
}

/// Checks that every start gets the network it is made for ([`crate::nn::init::Needs`]):
/// `fixup`, `rezero` and `skipinit` need residual blocks, and `skipinit`, which replaces
/// normalization, a network without norm layers. The error names the start and says what to
/// set in the experiment file.
pub fn check_start_needs(exp: &super::Experiment) -> Result<(), ConfigError> {
    use super::build::Plan;
    use crate::nn::init::Needs;
    fn any(plan: &[Plan], wanted: &dyn Fn(&Plan) -> bool) -> bool {
        plan.iter()
            .any(|p| wanted(p) || matches!(p, Plan::Residual { body, .. } if any(body, wanted)))
    }
    let network = &exp.spec.network;
    let Some(&activation) = network.activations.first() else {
        return Ok(());
    };
    // The layer structure does not depend on the activation or the data's widths.
    let Ok(plan) = super::build::network_plan(&network.shape(), 1, 1, activation) else {
        return Ok(());
    };
    let residual = any(&plan, &|p| matches!(p, Plan::Residual { .. }));
    let norm = any(&plan, &|p| {
        matches!(p, Plan::LayerNorm(_) | Plan::BatchNorm(_))
    });
    for (i, start) in exp.inits.iter().enumerate() {
        let name = start.init.name();
        let needs = start.init.other_params().needs;
        let problem = match needs {
            Needs::Residual | Needs::ResidualWithoutNorm if !residual => format!(
                "`{name}` starts residual blocks (it sets their branches or their α), but this \
                 network has none; set `network.residual = true` (with `network.block` dense \
                 layers per branch) or list `{{ residual = [...] }}` blocks in `network.layers`"
            ),
            Needs::ResidualWithoutNorm if norm => format!(
                "`{name}` replaces normalization (De & Smith 2020: α = 0 instead of \
                 BatchNorm), but this network has norm layers; set `network.norm = \"none\"` \
                 (and no \"layernorm\" or \"batchnorm\" in `network.layers`), or use \
                 `rezero`, which keeps them"
            ),
            _ => continue,
        };
        return Err(ConfigError(format!(
            "{}: inits[{i}] (`{}`): {problem}",
            exp.origin, start.label
        )));
    }
    Ok(())
}

/// Checks every start against the network the data give (input width `ds.n_features()`,
/// the hidden widths, `outputs`), for each activation: a formula start must give every
/// layer a finite std > 0. The error names the start, the activation and the layer.
pub fn check_starts(
    exp: &super::Experiment,
    ds: &Dataset,
    outputs: usize,
) -> Result<(), ConfigError> {
    let network = &exp.spec.network;
    check_start_needs(exp)?;
    if !network.shape().is_plain() {
        // Checked by `check_layer_engine` once the memory guard has passed (it builds the
        // networks to find each dense layer's place).
        return Ok(());
    }
    let mut sizes = vec![ds.n_features()];
    sizes.extend(&network.hidden);
    sizes.push(outputs);
    for (i, start) in exp.inits.iter().enumerate() {
        for &activation in &network.activations {
            start.init.check_layers(&sizes, activation).map_err(|e| {
                ConfigError(format!(
                    "{}: inits[{i}] (`{}`) with {activation}: {e}",
                    exp.origin, start.label
                ))
            })?;
        }
    }
    Ok(())
}
