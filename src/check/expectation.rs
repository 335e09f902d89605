//! What an expectation says, read from TOML: a selector (start, activation, epoch, layer,
//! class, `where` for a `[grid]` axis point),
//! a quantity, a predicate, a quantifier over seeds, and how it is graded (name, points,
//! visibility, message). Every key is checked here, before any result is read, so a
//! malformed expectation is an error naming it and the key, never a silent pass.

use serde::Deserialize;

use crate::nn::stats::LAYER_COLUMNS;

/// One `[[expect]]` table as written (unknown keys are rejected by name).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    points: Option<f64>,
    visibility: Option<String>,
    message: Option<String>,
    start: Option<String>,
    versus: Option<String>,
    activation: Option<String>,
    epoch: Option<toml::Value>,
    layer: Option<usize>,
    layers: Option<Vec<usize>>,
    class: Option<toml::Value>,
    #[serde(rename = "where")]
    where_: Option<toml::Table>,
    quantity: Option<String>,
    target: Option<f64>,
    seeds: Option<toml::Value>,
    between: Option<Vec<f64>>,
    at_most: Option<f64>,
    at_least: Option<f64>,
    approx: Option<f64>,
    rel: Option<f64>,
    abs: Option<f64>,
}

/// The quantities an expectation can measure, with where they come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Mean training loss at the epoch (`metrics.csv`).
    TrainLoss,
    /// Training accuracy, a fraction in [0, 1].
    TrainAccuracy,
    /// Test loss (needs a test set).
    TestLoss,
    /// Test accuracy, a fraction in [0, 1] (needs a test set and classes).
    TestAccuracy,
    /// Norm of the full training gradient.
    GradientNorm,
    /// The first logged epoch with train loss ≤ the target (∞ if never).
    EpochsToTarget,
    /// 1 if the run diverged, else 0.
    Diverged,
    /// A measured column of `layers.csv`, by its key (one of
    /// [`LAYER_COLUMNS`], which says what it means).
    Layer(&'static str),
    /// The per-layer factor of the activation std between `layers = [a, b]`:
    /// (std_b / std_a)^(1/(b − a)).
    ActivationStdFactor,
    /// Distinct hidden units of a layer (rows of its weights and bias that differ), from
    /// the saved weights (`weights/`, written with `--save-weights`).
    DistinctUnits,
}

/// The quantities of whole runs, each with its key.
const RUN_METRICS: [(&str, Metric); 7] = [
    ("train_loss", Metric::TrainLoss),
    ("train_accuracy", Metric::TrainAccuracy),
    ("test_loss", Metric::TestLoss),
    ("test_accuracy", Metric::TestAccuracy),
    ("gradient_norm", Metric::GradientNorm),
    ("epochs_to_target", Metric::EpochsToTarget),
    ("diverged", Metric::Diverged),
];

/// Every quantity's key, in the order the error lists them: the quantities of whole runs,
/// the columns of `layers.csv` (from their registry), then the two derived ones.
pub fn metrics() -> impl Iterator<Item = (&'static str, Metric)> {
    RUN_METRICS
        .into_iter()
        .chain(LAYER_COLUMNS.iter().map(|c| (c.key, Metric::Layer(c.key))))
        .chain([
            ("activation_std_factor", Metric::ActivationStdFactor),
            ("distinct_units", Metric::DistinctUnits),
        ])
}

impl Metric {
    /// The key users write.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Layer(key) => key,
            _ => metrics()
                .find(|(_, q)| *q == self)
                .map(|(k, _)| k)
                .expect("every quantity has a key"),
        }
    }

    /// Whether the quantity is also measured per class (`class` applies): the accuracies
    /// and losses of the training and test sets, from `classes.csv`.
    pub fn is_per_class(self) -> bool {
        use Metric::*;
        matches!(self, TrainAccuracy | TestAccuracy | TrainLoss | TestLoss)
    }

    /// Whether the quantity is measured per layer (needs `layer`).
    pub fn is_per_layer(self) -> bool {
        matches!(self, Metric::Layer(_))
    }
}

/// Which logged epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Epoch {
    /// The run's last logged epoch (its diverged row, if it diverged).
    Final,
    /// This epoch (0 = the untrained network); it must have been logged.
    At(usize),
}

/// How the per-seed values become a verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantifier {
    /// Every seed's value satisfies the predicate.
    All,
    /// At least one does.
    Any,
    /// At least this many do.
    AtLeast(usize),
    /// The mean over seeds does.
    Mean,
    /// The median over seeds does.
    Median,
}

/// The condition on a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Predicate {
    /// a ≤ v ≤ b.
    Between(f64, f64),
    /// v ≤ x.
    AtMost(f64),
    /// v ≥ x.
    AtLeast(f64),
    /// |v − x| ≤ tolerance, absolute (`abs`) or relative to |x| (`rel`).
    Approx {
        /// The value expected.
        value: f64,
        /// The tolerance.
        tolerance: f64,
        /// Whether the tolerance is relative.
        relative: bool,
    },
}

impl Predicate {
    /// Whether `v` satisfies the predicate (a missing value, NaN, never does).
    pub fn holds(&self, v: f64) -> bool {
        if v.is_nan() {
            return false;
        }
        match *self {
            Predicate::Between(a, b) => a <= v && v <= b,
            Predicate::AtMost(x) => v <= x,
            Predicate::AtLeast(x) => v >= x,
            Predicate::Approx {
                value,
                tolerance,
                relative,
            } => {
                let tol = if relative {
                    tolerance * value.abs()
                } else {
                    tolerance
                };
                (v - value).abs() <= tol
            }
        }
    }

    /// The predicate in words, e.g. `≤ 0.1` or `≈ 0.6931 ± 1%`.
    pub fn describe(&self) -> String {
        use super::format::num;
        match *self {
            Predicate::Between(a, b) => format!("in [{}, {}]", num(a), num(b)),
            Predicate::AtMost(x) => format!("≤ {}", num(x)),
            Predicate::AtLeast(x) => format!("≥ {}", num(x)),
            Predicate::Approx {
                value,
                tolerance,
                relative: true,
            } => format!("≈ {} ± {}%", num(value), num(100.0 * tolerance)),
            Predicate::Approx {
                value, tolerance, ..
            } => format!("≈ {} ± {}", num(value), num(tolerance)),
        }
    }
}

/// Who sees an expectation's result on Gradescope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Always shown.
    Visible,
    /// Never shown to students.
    Hidden,
    /// Shown after the due date.
    AfterDueDate,
    /// Shown once grades are published.
    AfterPublished,
}

impl Visibility {
    /// The name in TOML and in Gradescope's `results.json`.
    pub fn name(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
        }
    }
}

/// One checked expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// Shown in every output (default: the expectation described in words).
    pub name: String,
    /// Points it is worth (default 1).
    pub points: f64,
    /// Who sees it (default visible).
    pub visibility: Visibility,
    /// Shown when it fails.
    pub message: Option<String>,
    /// The start's label (may be omitted when the experiment has one start).
    pub start: Option<String>,
    /// A second start: the quantity is then the per-seed difference start − versus.
    pub versus: Option<String>,
    /// The activation (may be omitted when the experiment has one).
    pub activation: Option<String>,
    /// Which epoch.
    pub epoch: Epoch,
    /// The layer (1-based, as in `layers.csv`) of a per-layer quantity, or the layer of
    /// `distinct_units` (default 1).
    pub layer: Option<usize>,
    /// The two layers of `activation_std_factor`.
    pub layers: Option<(usize, usize)>,
    /// The class of a per-class accuracy or loss: its name (`setosa`) or, for data whose
    /// classes have no names, its index written as text (`0`).
    pub class: Option<String>,
    /// `where = { "network.norm" = "batchnorm" }`: the value of each `[grid]` axis it
    /// selects, by the axis's `[grid]` key or its column (checked against the results).
    pub where_: Vec<(String, toml::Value)>,
    /// What is measured.
    pub quantity: Metric,
    /// The target loss of `epochs_to_target` (default: the experiment's `target_loss`).
    pub target: Option<f64>,
    /// Over seeds.
    pub quantifier: Quantifier,
    /// The condition.
    pub predicate: Predicate,
}

impl Expectation {
    /// The selector and condition in words, e.g.
    /// `zeros / sigmoid: final train_loss, all seeds ≈ 0.6931 ± 0.01`.
    pub fn describe(&self) -> String {
        let mut who = self.start.clone().unwrap_or_else(|| "the start".into());
        if let Some(v) = &self.versus {
            who = format!("{who} − {v}");
        }
        if let Some(a) = &self.activation {
            who = format!("{who} / {a}");
        }
        let epoch = match self.epoch {
            Epoch::Final => "final".to_string(),
            Epoch::At(e) => format!("epoch {e}"),
        };
        let mut place = match (self.layers, self.layer) {
            (Some((a, b)), _) => format!(" layers {a}→{b}"),
            (None, Some(l)) => format!(" layer {l}"),
            (None, None) => String::new(),
        };
        if let Some(c) = &self.class {
            place.push_str(&format!(" of class {c}"));
        }
        if !self.where_.is_empty() {
            let chosen: Vec<String> = self
                .where_
                .iter()
                .map(|(k, v)| format!("{k} = {}", crate::experiment::axes::value_text(v)))
                .collect();
            who = format!("{who} [{}]", chosen.join(", "));
        }
        let over = match self.quantifier {
            Quantifier::All => "all seeds".to_string(),
            Quantifier::Any => "any seed".to_string(),
            Quantifier::AtLeast(k) => format!("≥ {k} seeds"),
            Quantifier::Mean => "mean".to_string(),
            Quantifier::Median => "median".to_string(),
        };
        format!(
            "{who}: {epoch} {}{place}, {over} {}",
            self.quantity.key(),
            self.predicate.describe()
        )
    }
}

/// Reads the `[[expect]]` tables of a TOML document (an expectations file, or an
/// experiment file's own). `origin` names the file in errors.
pub fn parse_expectations(text: &str, origin: &str) -> Result<Vec<Expectation>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        format!(
            "{origin}: not valid TOML: {}",
            e.message().lines().next().unwrap_or("")
        )
    })?;
    if let Some(key) = doc.keys().find(|k| *k != "expect") {
        return Err(format!(
            "{origin}: unknown key `{key}`; an expectations file holds only [[expect]] tables"
        ));
    }
    let tables = match doc.get("expect") {
        None => return Err(format!("{origin}: no [[expect]] tables")),
        Some(toml::Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(format!(
                "{origin}: `expect` must be an array of tables: write [[expect]]"
            ));
        }
    };
    from_tables(&tables, origin)
}

/// Checks `[[expect]]` tables already parsed from TOML.
pub fn from_tables(tables: &[toml::Value], origin: &str) -> Result<Vec<Expectation>, String> {
    let mut out = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        let label = match table.get("name").and_then(|n| n.as_str()) {
            Some(n) => format!("{origin}: expect[{i}] (`{n}`)"),
            None => format!("{origin}: expect[{i}]"),
        };
        let raw = Raw::deserialize(table.clone())
            .map_err(|e| format!("{label}: {}", e.message().trim()))?;
        let e = check(raw).map_err(|e| format!("{label}: {e}"))?;
        if out.iter().any(|o: &Expectation| o.name == e.name) {
            return Err(format!(
                "{label}: the name `{}` is used twice; names must be unique (graders key results by them)",
                e.name
            ));
        }
        out.push(e);
    }
    Ok(out)
}

fn check(raw: Raw) -> Result<Expectation, String> {
    let names: Vec<&str> = metrics().map(|(k, _)| k).collect();
    let quantity_key = raw
        .quantity
        .ok_or_else(|| format!("missing `quantity`; one of: {}", names.join(", ")))?;
    let quantity = metrics()
        .find(|(k, _)| *k == quantity_key.trim())
        .map(|(_, q)| q)
        .ok_or_else(|| {
            format!(
                "unknown `quantity` = \"{quantity_key}\"; one of: {}",
                names.join(", ")
            )
        })?;
    let epoch = match raw.epoch {
        None => Epoch::Final,
        Some(toml::Value::String(s)) if s.trim() == "final" => Epoch::Final,
        Some(toml::Value::Integer(n)) if n >= 0 => Epoch::At(n as usize),
        Some(other) => {
            return Err(format!(
                "`epoch` must be \"final\" or a whole number ≥ 0 (0 = untrained), got {other}"
            ));
        }
    };
    if matches!(quantity, Metric::EpochsToTarget | Metric::Diverged) && epoch != Epoch::Final {
        return Err(format!(
            "`epoch` does not apply to `{}` (it looks at the whole run); remove it",
            quantity.key()
        ));
    }
    if raw.target.is_some() && quantity != Metric::EpochsToTarget {
        return Err("`target` applies only to quantity = \"epochs_to_target\"".into());
    }
    if let Some(t) = raw.target
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(format!("`target` must be a finite number ≥ 0, got {t}"));
    }
    let layers = match raw.layers {
        None => None,
        Some(v) if quantity == Metric::ActivationStdFactor => match v[..] {
            [a, b] if a >= 1 && b > a => Some((a, b)),
            _ => {
                return Err(format!(
                    "`layers` must be two layers [a, b] with 1 ≤ a < b, got {v:?}"
                ));
            }
        },
        Some(_) => {
            return Err("`layers` applies only to quantity = \"activation_std_factor\"".into());
        }
    };
    if quantity == Metric::ActivationStdFactor && layers.is_none() {
        return Err("quantity `activation_std_factor` needs `layers = [a, b]`".into());
    }
    if raw.layer == Some(0) {
        return Err(
            "`layer` is 1-based (1 = the first hidden layer, as in layers.csv), got 0".into(),
        );
    }
    if quantity.is_per_layer() && raw.layer.is_none() {
        return Err(format!(
            "quantity `{}` is measured per layer: set `layer` (1 = the first hidden layer)",
            quantity.key()
        ));
    }
    if raw.layer.is_some() && !(quantity.is_per_layer() || quantity == Metric::DistinctUnits) {
        return Err(format!(
            "`layer` does not apply to quantity `{}`",
            quantity.key()
        ));
    }
    let class = match raw.class {
        None => None,
        Some(_) if !quantity.is_per_class() => {
            return Err(format!(
                "`class` does not apply to quantity `{}`; it selects one class of train_accuracy, test_accuracy, train_loss or test_loss",
                quantity.key()
            ));
        }
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(toml::Value::Integer(n)) if n >= 0 => Some(n.to_string()),
        Some(other) => {
            return Err(format!(
                "`class` must be a class name such as \"setosa\" or, for data whose classes have no names, a class number ≥ 0, got {other}"
            ));
        }
    };
    if quantity == Metric::DistinctUnits && !matches!(epoch, Epoch::Final | Epoch::At(0)) {
        return Err(
            "`distinct_units` is counted on the saved weights: `epoch` must be \"final\" or 0"
                .into(),
        );
    }
    let quantifier = match raw.seeds {
        None => Quantifier::All,
        Some(toml::Value::String(s)) => match s.trim() {
            "all" => Quantifier::All,
            "any" => Quantifier::Any,
            "mean" => Quantifier::Mean,
            "median" => Quantifier::Median,
            other => {
                return Err(format!(
                    "`seeds` = \"{other}\" is not a quantifier; expected \"all\", \"any\", \"mean\", \"median\" or {{ at_least = k }}"
                ));
            }
        },
        Some(toml::Value::Table(t)) => match (t.len(), t.get("at_least")) {
            (1, Some(toml::Value::Integer(k))) if *k >= 1 => Quantifier::AtLeast(*k as usize),
            _ => {
                return Err(
                    "`seeds` as a table must be { at_least = k } with a whole number k ≥ 1".into(),
                );
            }
        },
        Some(other) => {
            return Err(format!(
                "`seeds` must be \"all\", \"any\", \"mean\", \"median\" or {{ at_least = k }}, got {other}"
            ));
        }
    };
    let predicate = predicate(
        &raw.between,
        raw.at_most,
        raw.at_least,
        raw.approx,
        raw.rel,
        raw.abs,
    )?;
    let points = raw.points.unwrap_or(1.0);
    if !(points.is_finite() && points >= 0.0) {
        return Err(format!(
            "`points` must be a finite number ≥ 0, got {points}"
        ));
    }
    let visibility = match raw.visibility.as_deref().map(str::trim) {
        None | Some("visible") => Visibility::Visible,
        Some("hidden") => Visibility::Hidden,
        Some("after_due_date") => Visibility::AfterDueDate,
        Some("after_published") => Visibility::AfterPublished,
        Some(other) => {
            return Err(format!(
                "`visibility` = \"{other}\"; expected visible, hidden, after_due_date or after_published"
            ));
        }
    };
    if raw.versus.is_some() && raw.versus == raw.start {
        return Err("`versus` names the same start as `start`".into());
    }
    if raw.versus.is_some() && raw.start.is_none() {
        return Err("`versus` needs `start`: the difference is start − versus".into());
    }
    let mut e = Expectation {
        name: String::new(),
        points,
        visibility,
        message: raw.message,
        start: raw.start,
        versus: raw.versus,
        activation: raw.activation,
        epoch,
        layer: raw.layer,
        layers,
        class,
        where_: raw.where_.unwrap_or_default().into_iter().collect(),
        quantity,
        target: raw.target,
        quantifier,
        predicate,
    };
    e.name = match raw.name {
        Some(n) if !n.trim().is_empty() => n.trim().to_string(),
        Some(_) => return Err("`name` must not be empty".into()),
        None => e.describe(),
    };
    Ok(e)
}

fn predicate(
    between: &Option<Vec<f64>>,
    at_most: Option<f64>,
    at_least: Option<f64>,
    approx: Option<f64>,
    rel: Option<f64>,
    abs: Option<f64>,
) -> Result<Predicate, String> {
    let given = [
        between.is_some(),
        at_most.is_some(),
        at_least.is_some(),
        approx.is_some(),
    ]
    .iter()
    .filter(|&&g| g)
    .count();
    if given != 1 {
        return Err(format!(
            "give exactly one predicate: `between = [a, b]`, `at_most`, `at_least` or `approx` (with `rel` or `abs`); found {given}"
        ));
    }
    if approx.is_none() && (rel.is_some() || abs.is_some()) {
        return Err("`rel` and `abs` are the tolerance of `approx`; add `approx = x`".into());
    }
    let finite = |key: &str, v: f64| {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("`{key}` must be a finite number, got {v}"))
        }
    };
    if let Some(b) = between {
        return match b[..] {
            [a, c] if a.is_finite() && c.is_finite() && a <= c => Ok(Predicate::Between(a, c)),
            _ => Err(format!(
                "`between` must be two finite numbers [a, b] with a ≤ b, got {b:?}"
            )),
        };
    }
    if let Some(x) = at_most {
        return Ok(Predicate::AtMost(finite("at_most", x)?));
    }
    if let Some(x) = at_least {
        return Ok(Predicate::AtLeast(finite("at_least", x)?));
    }
    let value = finite("approx", approx.expect("one predicate given"))?;
    let (tolerance, relative) = match (rel, abs) {
        (Some(r), None) => (r, true),
        (None, Some(a)) => (a, false),
        _ => {
            return Err(
                "`approx` needs exactly one tolerance: `rel` (a fraction of the value) or `abs`"
                    .into(),
            );
        }
    };
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(format!(
            "the tolerance of `approx` must be a finite number ≥ 0, got {tolerance}"
        ));
    }
    Ok(Predicate::Approx {
        value,
        tolerance,
        relative,
    })
}
