//! Property tests of the experiment parser and validator (`Experiment::from_text`): any
//! text gives `Ok` or `Err`, never a panic, an abort (stack overflow) or a hang; and an
//! accepted experiment's resolved `config.toml` is itself accepted and resolves to the
//! same experiment. The start-formula parser (`Formula::parse`, and the same through a
//! TOML file) and deeply nested TOML are fuzzed too.
//!
//! 3,000 cases per property by default (CI); the long run (10⁵ cases each) is
//! `PROPTEST_CASES=100000 cargo test --release --test suite -- fuzz_experiment::`.

use std::time::{Duration, Instant};

use initlab::experiment::{BUILTINS, Experiment};
use initlab::nn::init::{Formula, LayerPlace};
use initlab::nn::{Activation, Fan};
use proptest::prelude::*;

/// Longest a case may take: far beyond any parse, so only a hang trips it.
const HANG: Duration = Duration::from_secs(5);

fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES; only replace its built-in default.
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 3_000;
    }
    config.failure_persistence = None;
    config
}

/// Parses, and for accepted input checks that the resolved spec round-trips.
fn check(text: &str) {
    let Ok(exp) = Experiment::from_text(text, "fuzz.toml", None) else {
        return;
    };
    let resolved = toml::to_string(&exp.resolved_spec()).expect("a resolved spec serializes");
    let again = Experiment::from_text(&resolved, "config.toml", None)
        .unwrap_or_else(|e| panic!("resolved config rejected: {e}\n{resolved}\nfrom\n{text}"));
    assert_eq!(again.init_labels(), exp.init_labels(), "{resolved}");
    assert_eq!(again.resolved_spec(), exp.resolved_spec(), "{resolved}");
}

/// Values that may replace the right-hand side of a `key = value` line.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        (-5i64..5).prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        Just("1e400".to_string()),
        Just("0.0".to_string()),
        Just("true".to_string()),
        Just("\"\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("[0]".to_string()),
        Just("[1, 0, 3]".to_string()),
        Just("[\"zeros\", \"zeros\"]".to_string()),
        Just("\"1/2\"".to_string()),
        Just("\"0/0\"".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        Just("{ name = \"huge\", std = -1.0 }".to_string()),
        Just("[{ name = \"orthogonal\", gain = 1e300 }]".to_string()),
        Just("[{ name = \"he-normal\", bias = { name = \"constant\", value = nan } }]".to_string()),
        Just("[{ name = \"uniform\", a = 2, b = 1 }]".to_string()),
        Just("[{ name = \"lsuv\", tolerance = 0 }]".to_string()),
        Just("[\"leaky-relu:-1\", \"elu:nan\"]".to_string()),
        "\"[a-z:=.0-9-]{0,12}\"",
        "[ -~]{0,8}",
    ]
}

/// One edit of a TOML text.
#[derive(Clone, Debug)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceValue(usize, String),
    /// Replace a number by another of the same kind (keeps the file well typed).
    Tweak(usize, i64, f64),
    InsertLine(usize, String),
    InsertBytes(usize, String),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let idx = any::<prop::sample::Index>().prop_map(|i| i.index(1 << 16));
    prop_oneof![
        1 => idx.clone().prop_map(Edit::DeleteLine),
        1 => idx.clone().prop_map(Edit::DuplicateLine),
        1 => (idx.clone(), idx.clone()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        4 => (idx.clone(), value()).prop_map(|(i, v)| Edit::ReplaceValue(i, v)),
        8 => (
            idx.clone(),
            -2i64..20,
            prop_oneof![
                Just(0.0),
                Just(1e-300),
                Just(0.5),
                Just(0.999_999),
                Just(1.0),
                Just(-1.0),
                Just(1e300),
                0.0f64..2.0,
            ],
        )
            .prop_map(|(i, n, f)| Edit::Tweak(i, n, f)),
        1 => (idx.clone(), prop_oneof![
            (r"[a-z_.]{1,14}", value()).prop_map(|(k, v)| format!("{k} = {v}")),
            Just("[data]".to_string()),
            Just("[[inits]]".to_string()),
            Just("shard = \"2/3\"".to_string()),
            Just("batch_size = 1".to_string()),
            Just("test_fraction = 0.999".to_string()),
            Just("max_rows = 1".to_string()),
        ]).prop_map(|(i, l)| Edit::InsertLine(i, l)),
        1 => (idx.clone(), "\\PC{0,6}").prop_map(|(i, s)| Edit::InsertBytes(i, s)),
        1 => idx.prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Edit::ReplaceValue(i, v) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if let Some((k, _)) = l.split_once('=') {
                    *l = format!("{k}= {v}");
                }
            }
            Edit::Tweak(i, int, float) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if let Some((k, v)) = l.split_once('=') {
                    let v = v.trim();
                    if v.parse::<i64>().is_ok() {
                        *l = format!("{k}= {int}");
                    } else if v.parse::<f64>().is_ok() {
                        *l = format!("{k}= {float:?}");
                    }
                }
            }
            Edit::InsertLine(i, l) => lines.insert(i % (lines.len() + 1), l.clone()),
            Edit::InsertBytes(i, s) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                let mut at = i % (l.len() + 1);
                while !l.is_char_boundary(at) {
                    at -= 1;
                }
                l.insert_str(at, s);
            }
            Edit::Truncate(i) => {
                let keep = i % (lines.len() + 1);
                lines.truncate(keep);
            }
            _ => {}
        }
    }
    lines.join("\n")
}

/// Formula-ish text: the grammar's tokens in random order, deep nesting of every kind
/// (parentheses, calls, minus signs, powers) and arbitrary text.
fn formulaish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("("),
        Just(")"),
        Just("-"),
        Just("+"),
        Just("*"),
        Just("/"),
        Just("^"),
        Just(","),
        Just("sqrt("),
        Just("min("),
        Just("pow("),
        Just("exp("),
        Just("ln("),
        Just("fan_in"),
        Just("fan_out"),
        Just("gain"),
        Just("layer"),
        Just("depth"),
        Just("pi"),
        Just("1"),
        Just("0"),
        Just("2.5"),
        Just("1e308"),
        Just("1e-320"),
        Just(".5e"),
        Just(" "),
        Just("nan"),
        Just("x"),
        Just("é"),
    ];
    let opener = prop_oneof![
        Just("("),
        Just("-"),
        Just("sqrt("),
        Just("2^"),
        Just("abs(-"),
        Just("min(1,"),
        Just("1+"),
        Just("- -"),
    ];
    prop_oneof![
        prop::collection::vec(token, 0..80).prop_map(|t| t.concat()),
        (opener, 0usize..3000, 0usize..3000).prop_map(|(open, n, m)| format!(
            "{}1{}",
            open.repeat(n),
            ")".repeat(m)
        )),
        "\\PC{0,60}",
    ]
}

/// Layers a formula is evaluated for.
fn places() -> Vec<LayerPlace> {
    [(1, 3, 2, 5), (2, 3, 5, 5), (3, 3, 5, 1)]
        .into_iter()
        .map(|(layer, depth, fan_in, fan_out)| {
            let after = if layer < depth {
                Activation::Tanh
            } else {
                Activation::Identity
            };
            LayerPlace::plain(layer, depth, Fan { fan_in, fan_out }, after)
        })
        .collect()
}

/// An experiment whose only start is `{ name = "formula", std = FORMULA }`.
fn with_formula(formula: &str) -> String {
    format!(
        "name = \"f\"\nseeds = 1\ninits = [{{ name = \"formula\", std = {} }}]\n\n[data]\nsource = \"xor\"\n\n[network]\nhidden = [4]\nactivations = [\"tanh\"]\nloss = \"bce\"\n\n[training]\nepochs = 1\nlearning_rate = 0.1\n",
        toml::Value::String(formula.to_string())
    )
}

/// Deeply nested TOML: arrays, inline tables, dotted keys and table headers, alone and
/// combined, under keys the schema reads as free-form values (`expect`, init parameters)
/// and under others.
fn deep_toml() -> impl Strategy<Value = String> {
    let open = prop_oneof![
        Just("["),
        Just("{a="),
        Just("{a.b.c.d.e.f.g.h="),
        Just("[{a="),
        Just("{ name = \"huge\", bias = "),
    ];
    let close = prop_oneof![Just("]"), Just("}"), Just("}]"), Just("")];
    let at = prop_oneof![
        Just("[[expect]]\nx"),
        Just("inits"),
        Just("bias"),
        Just("x"),
        Just("inits = [{ name = \"huge\", std = 1, p"),
    ];
    (at, 0usize..200, open, 0usize..300, close, 0usize..300).prop_map(
        |(at, keys, open, n, close, m)| {
            let dotted = vec!["k"; keys].join(".");
            let key = if dotted.is_empty() {
                at.to_string()
            } else {
                format!("{at}.{dotted}")
            };
            format!(
                "name = \"d\"\n[table.{dotted}]\n{key} = {}1{}\n",
                open.repeat(n),
                close.repeat(m)
            )
        },
    )
}

proptest! {
    #![proptest_config(config())]

    /// The formula parser: `Ok` or a short `Err`, never a panic, an overflow or a hang;
    /// an accepted formula evaluates (to any number) for every layer.
    #[test]
    fn formulas_never_panic(text in formulaish()) {
        let started = Instant::now();
        match Formula::parse(&text) {
            Ok(f) => {
                prop_assert!(text.chars().count() <= 1000);
                for place in places() {
                    let _ = f.eval(place);
                }
            }
            Err(e) => prop_assert!(e.len() < 1500, "{} bytes of error", e.len()),
        }
        prop_assert!(started.elapsed() < HANG);
    }

    /// Formulas through an experiment file (validation resolves every start).
    #[test]
    fn formula_starts_never_panic(text in formulaish()) {
        let started = Instant::now();
        check(&with_formula(&text));
        prop_assert!(started.elapsed() < HANG);
    }

    /// Deep nesting in TOML is an error, not a stack overflow.
    #[test]
    fn deeply_nested_toml_never_overflows(text in deep_toml()) {
        let started = Instant::now();
        check(&text);
        prop_assert!(started.elapsed() < HANG);
    }

    /// Arbitrary text.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    /// TOML-looking text: random keys, sections and values.
    #[test]
    fn tomlish_text_never_panics(
        lines in prop::collection::vec(prop_oneof![
            (r"(name|seeds|seed|inits|bias|source|hidden|activations|loss|epochs|learning_rate|batch_size|[a-z]{1,5})", value())
                .prop_map(|(k, v)| format!("{k} = {v}")),
            Just("[data]".to_string()),
            Just("[network]".to_string()),
            Just("[training]".to_string()),
            Just("[[inits]]".to_string()),
        ], 0..20)
    ) {
        check(&lines.join("\n"));
    }

    /// The built-in experiments with a few random edits (structure-aware mutation).
    #[test]
    fn mutated_builtins_never_panic(
        which in 0..BUILTINS.len(),
        edits in prop::collection::vec(edit(), 1..4),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let mut text = apply(BUILTINS[which].1, &edits);
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        if bom {
            text.insert(0, '\u{feff}');
        }
        check(&text);
    }
}

/// Found by `formula_starts_never_panic` at 10⁵ cases: a formula that reads as an infinite
/// number was written to `config.toml` as `std = inf`, which no longer parsed.
#[test]
fn a_formula_reading_as_an_infinite_number_round_trips() {
    for formula in ["11e308", "1e400", "-1e999"] {
        check(&with_formula(formula));
    }
}

#[test]
fn builtins_parse_and_round_trip() {
    for (name, text) in BUILTINS {
        assert!(
            Experiment::from_text(text, name, None).is_ok(),
            "built-in {name}"
        );
        check(text);
    }
}

/// The mutations are not all rejected by the parser: a good share of mutated built-ins
/// reach and pass the validator, so the round-trip property is exercised too.
#[test]
fn mutations_reach_the_validator() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (0..BUILTINS.len(), prop::collection::vec(edit(), 1..4));
    let (mut parsed, mut accepted) = (0, 0);
    let n = 2_000;
    for _ in 0..n {
        let (which, edits) = strategy.new_tree(&mut runner).unwrap().current();
        let text = apply(BUILTINS[which].1, &edits);
        if initlab::experiment::ExperimentSpec::from_toml(&text, "x").is_ok() {
            parsed += 1;
        }
        if Experiment::from_text(&text, "x", None).is_ok() {
            accepted += 1;
        }
    }
    eprintln!("{parsed} of {n} mutated built-ins parse, {accepted} pass validation");
    assert!(accepted * 10 >= n, "only {accepted} of {n} accepted");
    assert!(parsed > accepted);
}
