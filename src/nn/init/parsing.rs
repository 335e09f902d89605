//! Reading schemes from what users write: TOML (a name and a table of parameters) and the
//! command line (`name:key=value:key=value`).
//!
//! Parsing is driven by the [`SCHEMES`] rows: a row lists each parameter's key, default and
//! kind ([`Kind`]); [`parse_init`] checks the keys given, reads every value by its kind (the
//! default when not given) and hands the checked values to the row's constructor.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de};

use super::catalogue::SCHEMES;
use super::schemes::{
    Distribution, FanMode, Gain, Init, Scheme, SchemeInfo, scheme_info, scheme_names,
};

/// A parameter value as it comes from a TOML table or the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// A number (TOML integers and floats alike).
    Number(f64),
    /// Anything else: `auto`, `fan_out`, `normal`, ...
    Text(String),
}

impl ParamValue {
    /// Reads a command-line value: a number if it parses as one, text otherwise.
    pub fn parse(s: &str) -> ParamValue {
        let t = s.trim();
        t.parse::<f64>()
            .map(ParamValue::Number)
            .unwrap_or_else(|_| ParamValue::Text(t.to_string()))
    }

    /// The value as lower-case text, for the parameters that take words.
    fn word(&self) -> String {
        self.to_string().trim().to_ascii_lowercase()
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Number(v) => write!(f, "{v}"),
            ParamValue::Text(t) => f.write_str(t),
        }
    }
}

/// A constraint on a numeric parameter.
#[derive(Clone, Copy, Debug)]
pub(super) enum Rule {
    Finite,
    Positive,
    NonNegative,
}

impl Rule {
    fn holds(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Rule::Finite => true,
                Rule::Positive => v > 0.0,
                Rule::NonNegative => v >= 0.0,
            }
    }

    fn describe(self) -> &'static str {
        match self {
            Rule::Finite => "a finite number",
            Rule::Positive => "a finite number > 0",
            Rule::NonNegative => "a finite number ≥ 0",
        }
    }
}

/// What values a parameter takes.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// A number obeying the rule.
    Number(Rule),
    /// A whole number ≥ 1.
    Count,
    /// A number > 0, or `auto` for the activation's gain.
    Gain,
    /// `fan_in`, `fan_out` or `fan_avg`.
    Mode,
    /// `uniform`, `normal` or `truncated-normal`.
    Distribution,
    /// The name of a start that draws layer by layer on its own (not one that depends on
    /// the layer's place or on data), with its default parameters: ReZero's branch start.
    Base,
}

/// One parameter of a scheme: its key, its default as a user would type it, and its kind.
#[derive(Clone, Copy, Debug)]
pub(super) struct Param {
    key: &'static str,
    default: &'static str,
    kind: Kind,
}

impl Param {
    pub(super) const fn new(key: &'static str, default: &'static str, kind: Kind) -> Param {
        Param { key, default, kind }
    }
}

/// The parameters of one scheme, in canonical order. Displays as `key=default, ...`
/// (`gain=1|auto` for a gain), the form `initlab list` shows.
#[derive(Clone, Copy, Debug)]
pub struct Params(pub(super) &'static [Param]);

impl Params {
    /// Whether the scheme takes no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys, in canonical order.
    pub fn keys(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.key).collect()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", p.key, p.default)?;
            if matches!(p.kind, Kind::Gain) {
                f.write_str("|auto")?;
            }
        }
        Ok(())
    }
}

/// A checked parameter value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Value {
    Number(f64),
    Count(usize),
    Gain(Gain),
    Mode(FanMode),
    Distribution(Distribution),
    Base(&'static SchemeInfo),
}

impl fmt::Display for Value {
    /// The value as a user would type it (and as a resolved config records it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(v) | Value::Gain(Gain::Value(v)) => write!(f, "{v}"),
            Value::Count(n) => write!(f, "{n}"),
            Value::Gain(Gain::Auto) => f.write_str("auto"),
            Value::Mode(m) => f.write_str(m.name()),
            Value::Distribution(d) => f.write_str(d.name()),
            Value::Base(row) => f.write_str(row.name),
        }
    }
}

/// Every parameter of one scheme, checked, defaults filled in, in the row's order: what a
/// [`SCHEMES`] row's rules receive. The getters panic on a key or kind the row does not
/// declare — a mistake in the row, which `tests/suite/init_parse.rs` would catch for every
/// scheme.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Values(pub(super) Vec<(&'static str, Value)>);

impl Values {
    /// The values in the row's order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &(&'static str, Value)> {
        self.0.iter()
    }

    /// The base start of a start that delegates its weights (ReZero, SkipInit).
    pub(super) fn base(&self) -> &'static SchemeInfo {
        match self.get("base") {
            Value::Base(row) => row,
            other => panic!("parameter `base` is {other:?}, not a start"),
        }
    }

    fn get(&self, key: &str) -> Value {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("the scheme's row declares no parameter `{key}`"))
    }

    pub(super) fn number(&self, key: &str) -> f64 {
        match self.get(key) {
            Value::Number(v) => v,
            other => panic!("parameter `{key}` is {other:?}, not a number"),
        }
    }

    pub(super) fn count(&self, key: &str) -> usize {
        match self.get(key) {
            Value::Count(n) => n,
            other => panic!("parameter `{key}` is {other:?}, not a count"),
        }
    }

    pub(super) fn gain(&self) -> Gain {
        match self.get("gain") {
            Value::Gain(g) => g,
            other => panic!("parameter `gain` is {other:?}, not a gain"),
        }
    }

    pub(super) fn mode(&self) -> FanMode {
        match self.get("mode") {
            Value::Mode(m) => m,
            other => panic!("parameter `mode` is {other:?}, not a fan mode"),
        }
    }

    pub(super) fn distribution(&self) -> Distribution {
        match self.get("distribution") {
            Value::Distribution(d) => d,
            other => panic!("parameter `distribution` is {other:?}, not a distribution"),
        }
    }
}

/// Reads one value of parameter `key` of `scheme` by its kind; the error names both and
/// says what is valid.
fn check(scheme: &str, key: &str, kind: Kind, raw: &ParamValue) -> Result<Value, String> {
    match kind {
        Kind::Number(rule) => number(scheme, key, raw, rule).map(Value::Number),
        Kind::Count => {
            let whole = "a whole number ≥ 1";
            let v = number(scheme, key, raw, Rule::Finite)
                .map_err(|e| e.replace(Rule::Finite.describe(), whole))?;
            if v.fract() != 0.0 || !(1.0..=1e9).contains(&v) {
                return Err(format!("init `{scheme}`: `{key}` must be {whole}, got {v}"));
            }
            Ok(Value::Count(v as usize))
        }
        Kind::Gain => {
            if raw.word() == "auto" {
                return Ok(Value::Gain(Gain::Auto));
            }
            number(scheme, key, raw, Rule::Positive)
                .map(|g| Value::Gain(Gain::Value(g)))
                .map_err(|e| format!("{e} (or `auto` for the activation's gain)"))
        }
        Kind::Mode => match raw.word().replace('-', "_").as_str() {
            "fan_in" | "fanin" => Ok(Value::Mode(FanMode::FanIn)),
            "fan_out" | "fanout" => Ok(Value::Mode(FanMode::FanOut)),
            "fan_avg" | "fanavg" => Ok(Value::Mode(FanMode::FanAvg)),
            _ => Err(format!(
                "init `{scheme}`: `{key}` must be one of fan_in, fan_out, fan_avg, got `{}`",
                raw.word()
            )),
        },
        Kind::Distribution => match raw.word().replace('_', "-").as_str() {
            "uniform" => Ok(Value::Distribution(Distribution::Uniform)),
            "normal" | "untruncated-normal" => Ok(Value::Distribution(Distribution::Normal)),
            "truncated-normal" | "truncated" => {
                Ok(Value::Distribution(Distribution::TruncatedNormal))
            }
            _ => Err(format!(
                "init `{scheme}`: `{key}` must be one of uniform, normal, truncated-normal, \
                 got `{}`",
                raw.word()
            )),
        },
        Kind::Base => {
            let bases: Vec<&str> = SCHEMES
                .iter()
                .filter(|r| r.can_be_base())
                .map(|r| r.name)
                .collect();
            match canonical_scheme_name(&raw.word()).and_then(scheme_info) {
                Some(row) if row.can_be_base() => Ok(Value::Base(row)),
                _ => Err(format!(
                    "init `{scheme}`: `{key}` must be one of {}, got `{}`",
                    bases.join(", "),
                    raw.word()
                )),
            }
        }
    }
}

/// Reads a number (a number, or text that parses as one) that must obey `rule`.
fn number(scheme: &str, key: &str, raw: &ParamValue, rule: Rule) -> Result<f64, String> {
    let v = match raw {
        ParamValue::Number(v) => *v,
        ParamValue::Text(t) => t.trim().parse::<f64>().map_err(|_| {
            format!(
                "init `{scheme}`: `{key}` must be {}, got `{t}`",
                rule.describe()
            )
        })?,
    };
    if rule.holds(v) {
        Ok(v)
    } else {
        Err(format!(
            "init `{scheme}`: `{key}` must be {}, got {v}",
            rule.describe()
        ))
    }
}

/// Other names users type for a scheme (after lower-casing and `_` → `-`).
pub const SCHEME_ALIASES: &[(&str, &str)] = &[
    ("zero", "zeros"),
    ("glorot-uniform", "xavier-uniform"),
    ("glorot-normal", "xavier-normal"),
    ("kaiming-uniform", "he-uniform"),
    ("kaiming-normal", "he-normal"),
    ("truncated", "truncated-normal"),
    ("pytorch", "pytorch-default"),
    ("keras", "keras-default"),
];

/// Other names users type for a parameter (after lower-casing and `-` → `_`): PyTorch's
/// `a` and `negative_slope`, Keras' `stddev`.
const KEY_ALIASES: &[(&str, &str)] = &[
    ("a", "slope"),
    ("negative_slope", "slope"),
    ("stddev", "std"),
];

/// The catalogue name of a scheme typed as `name` (case-insensitive, `_` or `-`, aliases
/// from [`SCHEME_ALIASES`]), or `None` if there is no such scheme.
pub fn canonical_scheme_name(name: &str) -> Option<&'static str> {
    let n = name.trim().to_ascii_lowercase().replace('_', "-");
    SCHEMES
        .iter()
        .map(|s| s.name)
        .find(|s| *s == n)
        .or_else(|| {
            SCHEME_ALIASES
                .iter()
                .find(|(alias, _)| *alias == n)
                .map(|(_, c)| *c)
        })
}

/// Builds a scheme from its name and parameters (as given in a TOML table or on the
/// command line), with the defaults of [`SCHEMES`] for parameters not given.
///
/// Names are case-insensitive, `_` and `-` are interchangeable and [`SCHEME_ALIASES`] are
/// accepted. Errors name the scheme and the bad key or value and list what is valid.
///
/// ```
/// use initlab::nn::init::{parse_init, Init, ParamValue};
/// let he = parse_init("he-normal", &[("mode".into(), ParamValue::Text("fan_out".into()))]).unwrap();
/// assert_eq!(he, "he-normal:mode=fan_out:slope=0".parse::<Init>().unwrap());
/// assert_eq!(he.params()[0], ("mode".to_string(), "fan_out".to_string()));
/// assert!(parse_init("hee-normal", &[]).unwrap_err().contains("xavier-uniform"));
/// ```
pub fn parse_init(name: &str, params: &[(String, ParamValue)]) -> Result<Init, String> {
    if name.trim().eq_ignore_ascii_case("formula") {
        return super::formula::parse_formula_init(params);
    }
    let scheme = canonical_scheme_name(name).ok_or_else(|| {
        format!(
            "unknown init scheme `{}`; expected one of: {}",
            name.trim(),
            scheme_names()
        )
    })?;
    let row = scheme_info(scheme).expect("canonical names have a catalogue row");
    let keys = row.params.keys();

    // First the keys: each must be one of the scheme's, at most once.
    let mut given: Vec<(&'static str, &ParamValue)> = Vec::new();
    for (key, value) in params {
        let k = key.trim().to_ascii_lowercase().replace('-', "_");
        let k = KEY_ALIASES
            .iter()
            .find(|(alias, _)| *alias == k)
            .map_or(k.as_str(), |(_, canonical)| canonical);
        let Some(&found) = keys.iter().find(|&&valid| valid == k) else {
            return Err(if keys.is_empty() {
                format!("init `{scheme}` takes no parameters (got `{key}`)")
            } else {
                format!(
                    "init `{scheme}` has no parameter `{key}`; its parameters are: {}",
                    keys.join(", ")
                )
            });
        };
        if given.iter().any(|(k, _)| *k == found) {
            return Err(format!(
                "init `{scheme}`: parameter `{found}` is given twice"
            ));
        }
        given.push((found, value));
    }

    // Then every value, in canonical order, the default standing in for one not given.
    let mut values = Vec::new();
    for p in row.params.0 {
        let default = ParamValue::parse(p.default);
        let raw = given
            .iter()
            .find(|(k, _)| *k == p.key)
            .map_or(&default, |(_, v)| *v);
        values.push((p.key, check(scheme, p.key, p.kind, raw)?));
    }
    let values = Values(values);
    (row.check)(&values)?;
    Ok(Init::Scheme(Scheme { row, values }))
}

/// Checks that `init` can initialize a bias vector. Every scheme can except the ones that
/// draw a whole matrix at once (`orthogonal`, `lsuv`, `zero-hadamard`) and the ones that
/// depend on the layer's place (`formula`, `fixup`, `critical`, ...); the error lists the
/// ones that can. TOML files and the command line both go through this check.
pub fn check_bias_init(init: &Init) -> Result<(), String> {
    let valid = || {
        SCHEMES
            .iter()
            .filter(|s| s.can_set_bias())
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let row = match init {
        Init::Formula(_) => {
            return Err(
                "init `formula` sets weights layer by layer and cannot initialize a bias; use a scheme such as zeros or normal for `bias`".to_string(),
            );
        }
        Init::Custom(_) => return Ok(()),
        Init::Scheme(s) => s.row,
    };
    if row.can_set_bias() {
        return Ok(());
    }
    let why = if row.is_placed() {
        "sets weights by the layer's place in the network"
    } else {
        "draws a whole matrix"
    };
    Err(format!(
        "init `{}` {why} and cannot initialize a bias; bias inits: {}",
        row.name,
        valid()
    ))
}

/// Builds a *bias* initializer: the same names and parameters as [`parse_init`], except the
/// matrix schemes (see [`check_bias_init`]). See [`Init::sample_bias`] for what each does to
/// a bias (`pytorch-default` → U(±1/√fan_in), `keras-default` → zeros).
pub fn parse_bias_init(name: &str, params: &[(String, ParamValue)]) -> Result<Init, String> {
    let init = parse_init(name, params)?;
    check_bias_init(&init)?;
    Ok(init)
}

/// Splits the command-line form `name:key=value:key=value` into a name and parameters.
pub fn split_init_spec(spec: &str) -> Result<(String, Vec<(String, ParamValue)>), String> {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(format!(
            "empty init name in `{spec}`; expected NAME or NAME:key=value (one of: {})",
            scheme_names()
        ));
    }
    let mut params = Vec::new();
    for part in parts {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!(
                "in init `{spec}`: expected key=value after `:`, got `{part}` \
                 (e.g. he-normal:mode=fan_out:slope=0.1)"
            ));
        };
        if key.trim().is_empty() || value.trim().is_empty() {
            return Err(format!(
                "in init `{spec}`: expected key=value after `:`, got `{part}`"
            ));
        }
        params.push((key.trim().to_string(), ParamValue::parse(value)));
    }
    Ok((name, params))
}

impl FromStr for Init {
    type Err = String;

    /// Parses `name` or `name:key=value:key=value`, e.g. `huge:std=5`,
    /// `he-normal:mode=fan_out:slope=0.1`, `xavier-uniform:gain=auto`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, params) = split_init_spec(s)?;
        parse_init(&name, &params)
    }
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue::Number(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue::Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Init {
    /// Accepts a string (`"he-normal"`, `"he-normal:mode=fan_out"`) or a table with a
    /// `name` and the parameters (`{ name = "he-normal", mode = "fan_out" }`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Init;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an init such as \"he-normal\" or \"he-normal:mode=fan_out\", or a table \
                     { name = \"he-normal\", mode = \"fan_out\" }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Init, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Init, A::Error> {
                let mut name: Option<String> = None;
                let mut params = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "name" || key == "scheme" {
                        name = Some(map.next_value()?);
                    } else {
                        params.push((key, map.next_value::<ParamValue>()?));
                    }
                }
                let name = name.ok_or_else(|| {
                    de::Error::custom(format!(
                        "an init table needs `name` (one of: {})",
                        scheme_names()
                    ))
                })?;
                parse_init(&name, &params).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}
