//! Parsing initializers from names and parameters (TOML) and the command-line form.

use initlab::nn::init::{Init, ParamValue, SCHEMES, parse_bias_init, parse_init};

fn p(spec: &str) -> Result<Init, String> {
    spec.parse()
}

/// A start by its name and the parameters it must have resolved to (as text, as a resolved
/// config records them); the parameters not listed must not be there.
fn resolved(name: &str, params: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    (
        name.to_string(),
        params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// What a parsed start is, as [`resolved`] writes it.
fn parts(init: Init) -> (String, Vec<(String, String)>) {
    (init.name(), init.params())
}

#[test]
fn the_issue_examples_parse() {
    assert_eq!(
        parts(p("huge:std=5").unwrap()),
        resolved("huge", &[("std", "5")])
    );
    assert_eq!(
        parts(p("he-normal:mode=fan_out:slope=0.1").unwrap()),
        resolved("he-normal", &[("mode", "fan_out"), ("slope", "0.1")])
    );
    assert_eq!(
        parts(p("xavier-uniform:gain=auto").unwrap()),
        resolved("xavier-uniform", &[("gain", "auto")])
    );
    assert_eq!(
        parts(p("variance-scaling:scale=2:mode=fan_avg:distribution=normal").unwrap()),
        resolved(
            "variance-scaling",
            &[
                ("scale", "2"),
                ("mode", "fan_avg"),
                ("distribution", "normal")
            ]
        )
    );
    assert_eq!(
        parts(p("lsuv:tolerance=0.01:max_iterations=20").unwrap()),
        resolved("lsuv", &[("tolerance", "0.01"), ("max_iterations", "20")])
    );
}

#[test]
fn defaults_match_the_catalogue() {
    for s in SCHEMES {
        let init = parse_init(s.name, &[]).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert_eq!(init.name(), s.name);
        // SCHEMES lists "key=default" pairs; `gain=1|auto` means default 1.
        let listed: Vec<(String, String)> = s
            .params
            .to_string()
            .split(',')
            .map(str::trim)
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.split('|').next().unwrap().to_string())
            })
            .collect();
        assert_eq!(init.params(), listed, "{}", s.name);
    }
}

#[test]
fn names_are_forgiving() {
    assert_eq!(p("Xavier_Normal").unwrap(), p("xavier-normal").unwrap());
    assert_eq!(p("glorot-uniform").unwrap(), p("xavier-uniform").unwrap());
    assert_eq!(p("kaiming_normal").unwrap(), p("he-normal").unwrap());
    assert_eq!(parts(p(" zero ").unwrap()), resolved("zeros", &[]));
    assert_eq!(
        parts(p("he-uniform:a=0.2:mode=FAN-OUT").unwrap()),
        resolved("he-uniform", &[("mode", "fan_out"), ("slope", "0.2")])
    );
    assert_eq!(
        parts(p("lsuv:max-iterations=3").unwrap()),
        resolved("lsuv", &[("tolerance", "0.1"), ("max_iterations", "3")])
    );
}

#[test]
fn every_scheme_round_trips_through_spec_and_label() {
    let specs = [
        "zeros",
        "constant:value=-0.5",
        "tiny",
        "huge:std=3",
        "normal:mean=1:std=0.1",
        "uniform:low=-0.2:high=0.7",
        "truncated-normal:std=0.3",
        "xavier-uniform:gain=auto",
        "xavier-normal:gain=1.5",
        "he-uniform:mode=fan_avg",
        "he-normal:slope=0.01",
        "lecun-uniform",
        "lecun-normal",
        "variance-scaling:distribution=uniform",
        "orthogonal:gain=auto",
        "glorot-standard",
        "pytorch-default",
        "keras-default",
        "lsuv:tolerance=0.05",
    ];
    for spec in specs {
        let init = p(spec).unwrap();
        assert_eq!(init.label(), spec, "label is the name + non-default params");
        assert_eq!(init.to_string(), spec);
        assert_eq!(p(&init.spec()).unwrap(), init, "{}", init.spec());
        let params: Vec<(String, ParamValue)> = init
            .params()
            .into_iter()
            .map(|(k, v)| (k, ParamValue::parse(&v)))
            .collect();
        assert_eq!(parse_init(&init.name(), &params).unwrap(), init);
    }
    assert_eq!(
        p("he-normal").unwrap().spec(),
        "he-normal:mode=fan_in:slope=0"
    );
}

/// The error for `spec`, which must speak the user's words (no Rust paths or type names).
fn err(spec: &str) -> String {
    let e = p(spec).expect_err(spec);
    for rust in ["::", "Init", "FanMode", "Gain(", "ParamValue"] {
        assert!(!e.contains(rust), "{spec}: `{e}` names `{rust}`");
    }
    e
}

#[test]
fn unknown_scheme_lists_every_name() {
    let e = err("hee-normal");
    assert!(e.contains("`hee-normal`"), "{e}");
    for s in SCHEMES {
        assert!(e.contains(s.name), "{e} misses {}", s.name);
    }
    assert!(err("").contains("empty init name"));
}

#[test]
fn bad_keys_name_the_scheme_and_the_valid_keys() {
    let e = err("huge:mean=1");
    assert!(
        e.contains("huge") && e.contains("`mean`") && e.contains("std"),
        "{e}"
    );
    let e = err("zeros:std=1");
    assert!(e.contains("takes no parameters"), "{e}");
    let e = err("normal:std=1:std=2");
    assert!(e.contains("twice"), "{e}");
    let e = err("he-normal:mode");
    assert!(e.contains("key=value"), "{e}");
    let e = err("variance-scaling:scale=1:banana=2");
    assert!(e.contains("scale, mode, distribution"), "{e}");
}

#[test]
fn bad_values_are_rejected_with_the_rule() {
    for (spec, needle) in [
        ("huge:std=0", "> 0"),
        ("tiny:std=-1", "> 0"),
        ("normal:std=inf", "finite"),
        ("normal:mean=nan", "finite"),
        ("normal:std=abc", "`abc`"),
        ("uniform:low=1:high=1", "low"),
        ("uniform:low=2:high=1", "< `high`"),
        ("truncated-normal:std=0", "> 0"),
        ("xavier-normal:gain=0", "auto"),
        ("xavier-normal:gain=-2", "> 0"),
        ("orthogonal:gain=fast", "auto"),
        ("he-normal:slope=-0.1", "≥ 0"),
        ("he-normal:slope=inf", "finite"),
        ("he-normal:mode=fan_sideways", "fan_in, fan_out, fan_avg"),
        ("variance-scaling:scale=0", "> 0"),
        ("variance-scaling:distribution=cauchy", "truncated-normal"),
        ("lsuv:tolerance=0", "> 0"),
        ("lsuv:max_iterations=0", "≥ 1"),
        ("lsuv:max_iterations=2.5", "whole number"),
        ("constant:value=inf", "finite"),
    ] {
        let e = err(spec);
        let scheme = spec.split(':').next().unwrap();
        assert!(
            e.contains(needle) && e.contains(scheme),
            "{spec}: `{e}` lacks `{needle}`"
        );
    }
}

#[test]
fn numbers_may_arrive_as_text_and_text_as_numbers_is_an_error() {
    let init = parse_init(
        "huge",
        &[("std".to_string(), ParamValue::Text("2.5".to_string()))],
    )
    .unwrap();
    assert_eq!(parts(init), resolved("huge", &[("std", "2.5")]));
    let e = parse_init(
        "he-normal",
        &[("mode".to_string(), ParamValue::Number(1.0))],
    )
    .unwrap_err();
    assert!(e.contains("mode"), "{e}");
}

#[test]
fn bias_inits_use_the_same_names_except_matrix_schemes() {
    assert_eq!(
        parts(parse_bias_init("constant", &[("value".into(), ParamValue::Number(0.1))]).unwrap()),
        resolved("constant", &[("value", "0.1")])
    );
    assert_eq!(
        parts(parse_bias_init("zeros", &[]).unwrap()),
        resolved("zeros", &[])
    );
    for name in ["orthogonal", "lsuv"] {
        let e = parse_bias_init(name, &[]).unwrap_err();
        assert!(
            e.contains(name) && e.contains("bias") && e.contains("zeros"),
            "{e}"
        );
    }
}

#[derive(serde::Deserialize, serde::Serialize)]
struct Spec {
    inits: Vec<Init>,
}

#[test]
fn toml_accepts_strings_and_tables_and_writes_the_resolved_form() {
    let text = r#"
inits = [
  "xavier-normal",
  "he-normal:mode=fan_out",
  { name = "variance-scaling", scale = 2, mode = "fan_avg", distribution = "normal" },
  { name = "lsuv", max_iterations = 5 },
]
"#;
    let spec: Spec = toml::from_str(text).unwrap();
    assert_eq!(
        spec.inits,
        vec![
            p("xavier-normal").unwrap(),
            p("he-normal:mode=fan_out").unwrap(),
            p("variance-scaling:scale=2:mode=fan_avg:distribution=normal").unwrap(),
            p("lsuv:max_iterations=5").unwrap(),
        ]
    );
    let written = toml::to_string(&spec).unwrap();
    assert!(
        written.contains("he-normal:mode=fan_out:slope=0"),
        "{written}"
    );
    let again: Spec = toml::from_str(&written).unwrap();
    assert_eq!(again.inits, spec.inits);

    let bad = toml::from_str::<Spec>(r#"inits = [{ name = "huge", std = -1 }]"#)
        .err()
        .unwrap()
        .to_string();
    assert!(bad.contains("huge") && bad.contains("std"), "{bad}");
    let bad = toml::from_str::<Spec>(r#"inits = [{ std = 1 }]"#)
        .err()
        .unwrap()
        .to_string();
    assert!(bad.contains("name"), "{bad}");
}

/// An xor experiment whose `inits` and top-level lines are `inits_and_bias`.
fn experiment(inits_and_bias: &str) -> String {
    format!(
        "name = \"bias-check\"\n{inits_and_bias}\n\
         [data]\nsource = \"xor\"\n\
         [network]\nhidden = [4]\nactivations = [\"tanh\"]\nloss = \"bce\"\n\
         [training]\nepochs = 10\nlearning_rate = 0.5\n"
    )
}

fn validate(text: &str) -> Result<(), String> {
    use initlab::experiment::ExperimentSpec;
    let spec = ExperimentSpec::from_toml(text, "test.toml").map_err(|e| e.to_string())?;
    spec.validate("test.toml")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn toml_rejects_matrix_schemes_as_bias_and_names_the_key() {
    assert!(validate(&experiment("inits = [\"tiny\"]\nbias = \"zeros\"")).is_ok());
    assert!(
        validate(&experiment(
            "inits = [{ name = \"tiny\", bias = \"normal:std=0.1\" }]"
        ))
        .is_ok()
    );
    for name in ["orthogonal", "lsuv"] {
        let cases = [
            (format!("inits = [\"tiny\"]\nbias = \"{name}\""), "bias"),
            (
                format!("inits = [\"tiny\"]\nbias = {{ name = \"{name}\" }}"),
                "bias",
            ),
            (
                format!("inits = [\"tiny\", {{ name = \"huge\", bias = \"{name}\" }}]"),
                "inits[1].bias",
            ),
        ];
        for (lines, key) in cases {
            let e = validate(&experiment(&lines)).expect_err(&lines);
            assert!(
                e.contains(&format!("{key}:"))
                    && e.contains(&format!("`{name}`"))
                    && e.contains("cannot initialize a bias")
                    && e.contains("zeros"),
                "{lines}: {e}"
            );
        }
    }
}

#[test]
fn every_report_formula_has_its_parameters_filled_in() {
    for s in SCHEMES {
        let formula = parse_init(s.name, &[]).unwrap().formula();
        assert!(
            !formula.is_empty() && !formula.contains('{') && !formula.contains('}'),
            "{}: {formula}",
            s.name
        );
    }
    assert_eq!(
        p("he-normal:mode=fan_out:slope=0.1").unwrap().formula(),
        "W ~ N(0, 2/((1+0.1²)·fan_out))"
    );
    assert_eq!(
        p("xavier-uniform:gain=auto").unwrap().formula(),
        "W ~ U(±gain(activation)·√(6/(fan_in+fan_out)))"
    );
}

// ---- formula starts ----

use initlab::experiment::Experiment;
use initlab::nn::{Activation, Loss, Mlp};

/// The weights of a 5-8-6-3 tanh network (f64) under `init`, seed 7.
fn weights_of(init: &Init, activation: Activation) -> Vec<Vec<f64>> {
    let mut mlp = Mlp::<f64>::new(
        &[5, 8, 6, 3],
        &[activation, activation],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(init, None, 7);
    mlp.layers
        .iter()
        .map(|l| l.weight.iter().copied().collect())
        .collect()
}

fn bits(w: &[Vec<f64>]) -> Vec<Vec<u64>> {
    w.iter()
        .map(|l| l.iter().map(|v| v.to_bits()).collect())
        .collect()
}

#[test]
fn formula_starts_share_the_common_random_numbers_bit_for_bit() {
    for (formula, scheme) in [
        ("formula:std=sqrt(2 / (fan_in + fan_out))", "xavier-normal"),
        ("formula:variance=2 / (fan_in + fan_out)", "xavier-normal"),
        ("formula:std=sqrt(2 / fan_in)", "he-normal"),
        ("formula:variance=1 / fan_in", "lecun-normal"),
        (
            "formula:std=sqrt(2 / (fan_in + fan_out)):distribution=uniform",
            "xavier-uniform",
        ),
        (
            "formula:std=gain * sqrt(2 / (fan_in + fan_out))",
            "xavier-normal:gain=auto",
        ),
        (
            "formula:variance=2 / fan_in:distribution=truncated-normal",
            "variance-scaling:scale=2:distribution=truncated-normal",
        ),
        ("formula:std=0.01", "tiny"),
    ] {
        for activation in [Activation::Tanh, Activation::Relu] {
            let a = weights_of(&p(formula).unwrap(), activation);
            let b = weights_of(&p(scheme).unwrap(), activation);
            assert_eq!(bits(&a), bits(&b), "{formula} vs {scheme} ({activation})");
        }
    }
    // And a formula that differs from He by the factor 1/√2 gives exactly He / √2 up to
    // rounding: the same standard normals, scaled.
    let half = weights_of(
        &p("formula:std=sqrt(1 / fan_in)").unwrap(),
        Activation::Relu,
    );
    let he = weights_of(&p("he-normal").unwrap(), Activation::Relu);
    for (x, y) in half.iter().flatten().zip(he.iter().flatten()) {
        assert!((x * 2f64.sqrt() - y).abs() <= 1e-15 * y.abs().max(1.0));
    }
}

#[test]
fn formula_layer_and_depth_are_the_layers_place() {
    // std = layer / 10: layer l's weights are l/10 times the standard normals of tiny's
    // std = 1 ... i.e. normal:std=1, layer by layer.
    let by_layer = weights_of(&p("formula:std=layer / 10").unwrap(), Activation::Tanh);
    let unit = weights_of(&p("normal:std=1").unwrap(), Activation::Tanh);
    for (l, (a, b)) in by_layer.iter().zip(&unit).enumerate() {
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x.to_bits(), (y * ((l + 1) as f64 / 10.0)).to_bits());
        }
    }
    // depth = 3 weight layers: std = depth - 2 = 1 everywhere.
    let d = weights_of(&p("formula:std=depth - 2").unwrap(), Activation::Tanh);
    assert_eq!(bits(&d), bits(&unit));
}

#[test]
fn formula_starts_in_toml_run_and_round_trip_through_config() {
    let text = r#"
name = "f"
inits = [{ name = "formula", std = "sqrt(2 / fan_in)", label = "my-he" }, "he-normal"]
[data]
source = "xor"
[network]
hidden = [4]
activations = ["relu"]
loss = "bce"
[training]
epochs = 1
learning_rate = 0.1
"#;
    let exp = Experiment::from_text(text, "f.toml", None).unwrap();
    assert_eq!(exp.inits[0].label, "my-he");
    let config = toml::to_string(&exp.resolved_spec()).unwrap();
    assert!(config.contains("std = \"sqrt(2 / fan_in)\""), "{config}");
    let again = Experiment::from_text(&config, "config.toml", None).unwrap();
    assert_eq!(again.inits[0].init, exp.inits[0].init);
    assert_eq!(
        exp.formulas()[0].1,
        "W ~ N(0, std²), std = sqrt(2 / fan_in)"
    );

    let bad = text.replace("fan_in)\"", "fan_inn)\"");
    let e = Experiment::from_text(&bad, "f.toml", None).unwrap_err().0;
    assert!(
        e.contains("formula `sqrt(2 / fan_inn)`: unknown variable `fan_inn` at column 10; known: fan_in, fan_out, gain, layer, depth"),
        "{e}"
    );
    // A formula cannot be a bias start.
    let e =
        parse_bias_init("formula", &[("std".into(), ParamValue::Text("1".into()))]).unwrap_err();
    assert!(e.contains("cannot initialize a bias"), "{e}");
}
