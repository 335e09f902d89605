//! Grid axes over any setting: the `[grid]` table of an experiment file, its values
//! (lists, `logspace`, `linspace`), and the settings it expands to.
//!
//! ```toml
//! [grid]
//! "network.norm" = ["none", "batchnorm"]
//! "training.learning_rate" = { logspace = [-4, 0, 20] }   # 10^-4 … 10^0, 20 values
//! "training.learning_rate" = { log2space = [-8, 1, 10] }  # 2^-8 … 2^1, 10 values
//! "network.width" = [16, 64]                              # every hidden layer's width
//! "inits.normal.std" = { linspace = [0.5, 2, 4] }        # a start's parameter, by label
//! ```
//!
//! Each axis multiplies the grid: the runs are starts × activations × axis points × seeds,
//! the axes in the order of their keys (as scikit-learn's `ParameterGrid`; TOML tables are
//! unordered), the last one changing fastest. Every
//! axis point of a replicate gets the same data split, batch order and start draws (its
//! seeds do not depend on the point), so comparisons along an axis are paired. Each axis
//! is a column of every results file, after the run key's `seed` (see [`Axis::column`]).
//!
//! What this is not: a search (no random or Bayesian sampling), nor a way to sweep the data
//! (every run of an experiment shares its data set), the precision or the training length.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::spec::{ExperimentSpec, InitEntry, ResolvedInit};

/// Most axis points (settings) a `[grid]` may make: each is a resolved experiment held in
/// memory and validated before anything runs.
pub const MAX_POINTS: usize = 10_000;

/// Most axes a `[grid]` may have.
pub const MAX_AXES: usize = 16;

/// The `[grid]` table as written: each swept setting (a dotted key) with its values (a
/// list, or a `{ logspace = [...] }` / `{ linspace = [...] }` table); see [`expand`] for the order of the axes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridSpec(pub Vec<(String, toml::Value)>);

impl GridSpec {
    /// Whether the experiment sweeps nothing (no `[grid]`, or an empty one).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for GridSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for GridSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = GridSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of settings, each with a list of values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GridSpec, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, toml::Value>()? {
                    entries.push((key, value));
                }
                Ok(GridSpec(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// What an axis changes.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    /// A key under `network` or `training` (path below the section).
    Setting { section: String, path: Vec<String> },
    /// `network.width`: every entry of `network.hidden`.
    Width,
    /// `network.depth`: the number of entries of `network.hidden`.
    Depth,
    /// `inits.<label>.<param>`: a parameter of the start at this index of `inits`.
    Start { index: usize, param: String },
}

/// One swept setting, its values expanded.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The key as written in `[grid]` (`training.learning_rate`).
    pub key: String,
    /// Its column in the results files: the key's last part (`learning_rate`, `norm`,
    /// `std`), or the whole key with `_` for `.` (`inits_tiny_std`) when the last part is
    /// another axis's column or a column the files already have.
    pub column: String,
    /// The values, in order.
    pub values: Vec<toml::Value>,
    /// Each value as it appears in the results files (numbers in their shortest
    /// round-trip form, strings as they are, lists and tables as inline TOML).
    pub texts: Vec<String>,
    /// Whether the values came from `logspace` (pictures use a log axis).
    pub log_scale: bool,
    target: Target,
}

/// One axis point: the experiment it resolves to.
#[derive(Clone, Debug)]
pub struct Point {
    /// The experiment with this point's settings (and no `[grid]`).
    pub spec: ExperimentSpec,
    /// Its starts, resolved (the same labels as the experiment's).
    pub inits: Vec<ResolvedInit>,
    /// The index of this point's value on each axis.
    pub choice: Vec<usize>,
}

/// A `[grid]` expanded: the axes and every point, in grid order. An experiment without a
/// `[grid]` has no axes and one point, itself.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The axes, in the order of their keys.
    pub axes: Vec<Axis>,
    /// Every combination of the axes' values (the last axis fastest).
    pub points: Vec<Point>,
}

impl Sweep {
    /// The run-key columns of a point: `(column, value)` per axis.
    pub fn key_of(&self, point: usize) -> Vec<(String, String)> {
        let choice = &self.points[point].choice;
        self.axes
            .iter()
            .zip(choice)
            .map(|(a, &i)| (a.column.clone(), a.texts[i].clone()))
            .collect()
    }

    /// `key = value, …` of a point, for messages and captions.
    pub fn describe(&self, point: usize) -> String {
        describe(&self.axes, &self.points[point].choice)
    }

    /// The columns of the axes, in order.
    pub fn columns(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.column.clone()).collect()
    }
}

fn describe(axes: &[Axis], choice: &[usize]) -> String {
    axes.iter()
        .zip(choice)
        .map(|(a, &i)| format!("{} = {}", a.key, a.values[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text of a value in the results files.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => crate::csvfile::fmt_f64(*f),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// numpy's `linspace(start, stop, count)`: `start + i·step` with `step = (stop − start) /
/// (count − 1)`, the last value exactly `stop`; one value is `start`.
pub fn linspace(start: f64, stop: f64, count: usize) -> Vec<f64> {
    if count == 1 {
        return vec![start];
    }
    let step = (stop - start) / (count - 1) as f64;
    (0..count)
        .map(|i| {
            if i == count - 1 {
                stop
            } else {
                start + i as f64 * step
            }
        })
        .collect()
}

/// numpy's `logspace(start, stop, count)`: `10^x` for `x` in [`linspace`]; a whole exponent
/// `k` gives exactly the number written `1e{k}` (`0.001`, not `10^-3`'s rounding).
pub fn logspace(start: f64, stop: f64, count: usize) -> Vec<f64> {
    linspace(start, stop, count)
        .into_iter()
        .map(|x| {
            if x.fract() == 0.0 && x.abs() < 400.0 {
                format!("1e{}", x as i64).parse().unwrap_or(f64::NAN)
            } else {
                10f64.powf(x)
            }
        })
        .collect()
}

/// `2^x` for `x` in [`linspace`] (the learning-rate grids of width-transfer experiments);
/// a whole exponent gives the exact power of two.
pub fn log2space(start: f64, stop: f64, count: usize) -> Vec<f64> {
    linspace(start, stop, count)
        .into_iter()
        .map(|x| {
            if x.fract() == 0.0 && x.abs() < 1000.0 {
                2f64.powi(x as i32)
            } else {
                2f64.powf(x)
            }
        })
        .collect()
}

/// Keys that cannot be axes, with why.
fn refused(key: &str) -> Option<&'static str> {
    Some(match key {
        "network.activations" => {
            "the activations are compared already: list them in `network.activations`"
        }
        "training.epochs" | "training.log_every" | "training.histogram_epochs" => {
            "every run of an experiment logs the same epochs"
        }
        "training.precision" => "every run of an experiment computes in one precision",
        "training.target_loss" => "the summary reads one target loss for every run",
        _ => return None,
    })
}

/// The numbers of a `[start, stop, count]` helper.
fn helper_numbers(key: &str, name: &str, v: &toml::Value) -> Result<(f64, f64, usize), String> {
    let shape = || {
        format!(
            "`[grid]` `{key}`: `{name}` must be [start, stop, count] with numbers start and \
             stop and a whole count ≥ 1 (e.g. {{ {name} = [-4, 0, 20] }})"
        )
    };
    let toml::Value::Array(items) = v else {
        return Err(shape());
    };
    let [a, b, n] = items.as_slice() else {
        return Err(shape());
    };
    let number = |v: &toml::Value| match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    let (Some(a), Some(b)) = (number(a), number(b)) else {
        return Err(shape());
    };
    let toml::Value::Integer(n) = n else {
        return Err(shape());
    };
    if *n < 1 {
        return Err(format!(
            "`[grid]` `{key}`: `{name}` count is {n}; it must be at least 1"
        ));
    }
    Ok((a, b, usize::try_from(*n).unwrap_or(usize::MAX)))
}

/// How many values an axis has, without expanding it (a count may be huge).
fn value_count(key: &str, v: &toml::Value) -> Result<usize, String> {
    match v {
        toml::Value::Array(items) if items.is_empty() => Err(format!(
            "`[grid]` `{key}` is an empty list; give at least one value"
        )),
        toml::Value::Array(items) => Ok(items.len()),
        toml::Value::Table(t)
            if t.len() == 1
                && (t.contains_key("logspace")
                    || t.contains_key("log2space")
                    || t.contains_key("linspace")) =>
        {
            let (name, value) = t.iter().next().expect("one entry");
            helper_numbers(key, name, value).map(|(_, _, n)| n)
        }
        other => Err(format!(
            "`[grid]` `{key}` = {}: expected a list of values, {{ logspace = [start, stop, count] }}, \
             {{ log2space = [start, stop, count] }} or {{ linspace = [start, stop, count] }}",
            short(other)
        )),
    }
}

/// A value for messages, cut to 60 characters.
fn short(v: &toml::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// The values of an axis (counted already).
fn expand_values(key: &str, v: &toml::Value) -> Result<(Vec<toml::Value>, bool), String> {
    match v {
        toml::Value::Array(items) => Ok((items.clone(), false)),
        toml::Value::Table(t) => {
            let (name, value) = t.iter().next().expect("counted");
            let (a, b, n) = helper_numbers(key, name, value)?;
            let log = name == "logspace" || name == "log2space";
            let numbers = match name.as_str() {
                "logspace" => logspace(a, b, n),
                "log2space" => log2space(a, b, n),
                _ => linspace(a, b, n),
            };
            if let Some(bad) = numbers.iter().find(|x| !x.is_finite()) {
                return Err(format!(
                    "`[grid]` `{key}`: `{name}` = {} gives {bad}, not a finite number",
                    short(value)
                ));
            }
            Ok((numbers.into_iter().map(toml::Value::Float).collect(), log))
        }
        _ => unreachable!("counted"),
    }
}

/// The column names the results files have besides the axes (an axis column must differ).
fn taken_columns() -> Vec<&'static str> {
    use crate::csvfile::field_names;
    use crate::experiment::record as r;
    let mut names: Vec<&'static str> = r::RunKey::COLUMNS.to_vec();
    for fields in [
        field_names::<r::Metrics>(),
        field_names::<r::LayerStats>(),
        field_names::<r::BoundaryPoint>(),
        field_names::<r::HistogramBin>(),
        field_names::<r::ClassStats>(),
        field_names::<r::SummaryRow>(),
    ] {
        names.extend_from_slice(fields);
    }
    names
}

/// Reads where an axis applies; `labels` are the experiment's starts.
fn target_of(key: &str, spec: &ExperimentSpec, labels: &[String]) -> Result<Target, String> {
    let not_setting = || {
        format!(
            "`[grid]` `{key}` is not a setting that can be swept; expected a dotted key under \
             `network`, `training` or `inits` (e.g. \"network.norm\", \
             \"training.learning_rate\", \"network.width\", \"inits.<start>.<parameter>\")"
        )
    };
    if let Some(why) = refused(key) {
        return Err(format!("`[grid]` `{key}` cannot be swept: {why}"));
    }
    let (section, rest) = key.split_once('.').ok_or_else(not_setting)?;
    match section {
        "data" => Err(format!(
            "`[grid]` `{key}` cannot be swept: every run of an experiment shares its data \
             (run one experiment per data setting)"
        )),
        "inits" => {
            let (label, param) = rest.rsplit_once('.').ok_or_else(|| {
                format!(
                    "`[grid]` `{key}`: a start's parameter is `inits.<start>.<parameter>` \
                     (e.g. \"inits.normal.std\")"
                )
            })?;
            let index = labels.iter().position(|l| l == label).ok_or_else(|| {
                format!(
                    "`[grid]` `{key}`: no start is labelled `{label}`; the starts are: {}",
                    labels.join(", ")
                )
            })?;
            if matches!(param, "name" | "label" | "bias") || param.is_empty() {
                return Err(format!(
                    "`[grid]` `{key}`: `{param}` is not a parameter of a start; sweep a \
                     parameter such as `std`, `gain` or `scale`"
                ));
            }
            Ok(Target::Start {
                index,
                param: param.to_string(),
            })
        }
        "network" if rest == "width" || rest == "depth" => {
            if spec.network.layers.is_some() || spec.network.hidden.is_empty() {
                return Err(format!(
                    "`[grid]` `{key}` changes `network.hidden`; this network has no \
                     `network.hidden` widths (it lists `network.layers`)"
                ));
            }
            Ok(if rest == "width" {
                Target::Width
            } else {
                Target::Depth
            })
        }
        "network" | "training" if !rest.is_empty() && rest.split('.').all(|p| !p.is_empty()) => {
            Ok(Target::Setting {
                section: section.to_string(),
                path: rest.split('.').map(str::to_string).collect(),
            })
        }
        _ => Err(not_setting()),
    }
}

/// A whole number ≥ `least` from an axis value (an integral float counts).
fn whole(key: &str, v: &toml::Value, least: i64) -> Result<usize, String> {
    let n = match v {
        toml::Value::Integer(i) => Some(*i),
        toml::Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(*f as i64),
        _ => None,
    };
    match n {
        Some(n) if n >= least => Ok(n as usize),
        _ => Err(format!(
            "`[grid]` `{key}` = {}: expected a whole number ≥ {least}",
            short(v)
        )),
    }
}

/// The experiment at one point (`choice` indexes each axis's values).
fn apply(base: &ExperimentSpec, axes: &[Axis], choice: &[usize]) -> Result<ExperimentSpec, String> {
    let mut tree = toml::Value::try_from(base).map_err(|e| e.to_string())?;
    let mut width = None;
    let mut depth = None;
    let mut starts = Vec::new();
    for (axis, &i) in axes.iter().zip(choice) {
        let value = &axis.values[i];
        match &axis.target {
            Target::Width => width = Some(whole(&axis.key, value, 1)?),
            Target::Depth => depth = Some(whole(&axis.key, value, 0)?),
            Target::Start { index, param } => starts.push((*index, param, value)),
            Target::Setting { section, path } => {
                let mut place = tree
                    .get_mut(section.as_str())
                    .expect("network and training are always written");
                for (k, part) in path.iter().enumerate() {
                    let toml::Value::Table(table) = place else {
                        return Err(format!(
                            "`[grid]` `{}`: `{section}.{}` is not a table",
                            axis.key,
                            path[..k].join(".")
                        ));
                    };
                    if k + 1 == path.len() {
                        table.insert(part.clone(), value.clone());
                        break;
                    }
                    place = table
                        .entry(part.clone())
                        .or_insert_with(|| toml::Value::Table(Default::default()));
                }
            }
        }
    }
    let mut spec: ExperimentSpec = tree.try_into().map_err(|e: toml::de::Error| {
        format!(
            "`[grid]` {}: {}",
            describe(axes, choice),
            e.message().trim().replace('\n', "; ")
        )
    })?;
    if width.is_some() || depth.is_some() {
        let hidden = &spec.network.hidden;
        let w = width.unwrap_or(hidden[0]);
        let d = depth.unwrap_or(hidden.len());
        spec.network.hidden = vec![w; d];
    }
    for (index, param, value) in starts {
        let entry = &mut spec.inits[index];
        if let InitEntry::Name(name) = entry {
            *entry = InitEntry::Table {
                name: name.clone(),
                label: None,
                bias: None,
                params: Default::default(),
            };
        }
        if let InitEntry::Table { params, .. } = entry {
            params.insert(param.clone(), value.clone());
        }
    }
    Ok(spec)
}

/// Expands the `[grid]` of a validated experiment (`inits` are its resolved starts): every
/// axis read, the number of points checked against [`MAX_POINTS`] before any is made, then
/// every point made and validated. Errors name the `[grid]` key and say what was expected.
pub fn expand(
    spec: &ExperimentSpec,
    inits: &[ResolvedInit],
    origin: &str,
) -> Result<Sweep, String> {
    let mut base = spec.clone();
    base.grid = GridSpec::default();
    if spec.grid.is_empty() {
        return Ok(Sweep {
            axes: Vec::new(),
            points: vec![Point {
                spec: base,
                inits: inits.to_vec(),
                choice: Vec::new(),
            }],
        });
    }
    // Axes in the order of their keys (as scikit-learn's ParameterGrid): the same order
    // whether they come from the file, from --grid or from a config.toml read back.
    let mut entries = spec.grid.0.clone();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let entries = &entries;
    if entries.len() > MAX_AXES {
        return Err(format!(
            "{origin}: `[grid]` has {} axes; at most {MAX_AXES} are accepted",
            entries.len()
        ));
    }
    let labels: Vec<String> = inits.iter().map(|r| r.label.clone()).collect();
    let mut total: usize = 1;
    let mut counts = Vec::new();
    for (key, values) in entries {
        let n = value_count(key, values).map_err(|e| format!("{origin}: {e}"))?;
        target_of(key, spec, &labels).map_err(|e| format!("{origin}: {e}"))?;
        counts.push(format!("{key}: {n}"));
        total = total.saturating_mul(n);
    }
    if total > MAX_POINTS {
        return Err(format!(
            "{origin}: `[grid]` makes {total} settings ({}); at most {MAX_POINTS} are accepted \
             — sweep fewer values or split the sweep into several experiments",
            counts.join(" × ")
        ));
    }
    // The histograms' epochs depend on the number of runs: every point keeps the whole
    // grid's, so that every run of the grid has the same.
    let whole_grid_histograms = spec.training.histogram_epochs.is_none().then(|| {
        let runs = labels
            .len()
            .saturating_mul(spec.network.activations.len())
            .saturating_mul(spec.seeds)
            .saturating_mul(total);
        spec.training
            .histogram_count(runs, spec.network.hidden.len() + 1)
    });
    let taken = taken_columns();
    let mut axes: Vec<Axis> = Vec::new();
    for (key, values) in entries {
        let target = target_of(key, spec, &labels).map_err(|e| format!("{origin}: {e}"))?;
        let (values, log_scale) =
            expand_values(key, values).map_err(|e| format!("{origin}: {e}"))?;
        let texts: Vec<String> = values.iter().map(value_text).collect();
        for (i, t) in texts.iter().enumerate() {
            if texts[..i].contains(t) {
                return Err(format!(
                    "{origin}: `[grid]` `{key}` lists {} twice; every value of an axis must differ",
                    values[i]
                ));
            }
        }
        let last = key.rsplit('.').next().unwrap_or(key).to_string();
        let column = if taken.contains(&last.as_str()) || axes.iter().any(|a| a.column == last) {
            key.replace('.', "_")
        } else {
            last
        };
        if axes.iter().any(|a| a.column == column) || taken.contains(&column.as_str()) {
            return Err(format!(
                "{origin}: `[grid]` `{key}` would be the column `{column}`, which another axis or \
                 the results already have"
            ));
        }
        let axis = Axis {
            key: key.clone(),
            column,
            values,
            texts,
            log_scale,
            target,
        };
        // Each axis alone on the experiment first: an unknown key or a value of the wrong
        // type is reported for its own axis, not for a combination.
        for i in 0..axis.values.len() {
            let one = apply(&base, std::slice::from_ref(&axis), &[i])
                .map_err(|e| format!("{origin}: {e}"))?;
            one.validate(&format!(
                "{origin}: `[grid]` {} = {}",
                axis.key, axis.values[i]
            ))
            .map_err(|e| e.0)?;
        }
        axes.push(axis);
    }
    let mut points = Vec::with_capacity(total);
    let mut choice = vec![0; axes.len()];
    for _ in 0..total {
        let mut point = apply(&base, &axes, &choice).map_err(|e| format!("{origin}: {e}"))?;
        if let Some(count) = whole_grid_histograms {
            point.training.histogram_epochs = Some(count);
        }
        let at = format!("{origin}: `[grid]` {}", describe(&axes, &choice));
        let resolved = point.validate(&at).map_err(|e| e.0)?;
        points.push(Point {
            spec: point,
            inits: resolved,
            choice: choice.clone(),
        });
        // The next combination, the last axis fastest.
        for k in (0..axes.len()).rev() {
            choice[k] += 1;
            if choice[k] < axes[k].values.len() {
                break;
            }
            choice[k] = 0;
        }
    }
    Ok(Sweep { axes, points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_match_numpy() {
        // numpy.linspace(0, 1, 5) and numpy.logspace(-4, 0, 5).
        assert_eq!(linspace(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(logspace(-4.0, 0.0, 5), [1e-4, 1e-3, 1e-2, 1e-1, 1.0]);
        assert_eq!(log2space(-2.0, 1.0, 4), [0.25, 0.5, 1.0, 2.0]);
        assert_eq!(linspace(3.0, 7.0, 1), [3.0]);
        // numpy.logspace(-4, 0, 20)[1] = 0.0001623776739188721 (numpy 2).
        assert_eq!(logspace(-4.0, 0.0, 20)[1], 0.000_162_377_673_918_872_1);
    }
}
