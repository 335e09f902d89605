//! Parametrizations (SP, NTK, μP): the multipliers against the published tables, μP
//! against Microsoft's `mup` package in PyTorch, and the identities (SP changes nothing; μP
//! and NTK at the base width are SP bit for bit).

use std::path::Path;

use super::pytorch_reference::{data, fill};
use initlab::nn::parametrization::{Family, Parametrization, Role, Setup};
use initlab::nn::{
    Activation, Adam, Layer, Loss, Network, NetworkWorkspace, Optimizer, ParamList, ParamSet, Sgd,
    TargetsView, dense::Dense,
};
use serde_json::Value;

// ---------------------------------------------------------------- the published tables

/// A scaling law c · fan_in^a · fan_out^b, written from the papers (constants dropped).
#[derive(Clone, Copy, Debug)]
struct Law {
    fan_in: f64,
    fan_out: f64,
}

const fn law(fan_in: f64, fan_out: f64) -> Law {
    Law { fan_in, fan_out }
}

/// One role's row: effective weight variance, bias variance, SGD learning rate (weight,
/// bias), Adam learning rate (weight, bias) — "effective" meaning of the weight that
/// multiplies x, W = c·w, and of the step it takes.
type Row = [Law; 6];

/// Tensor Programs V (Yang et al. 2022), Table 3, μP for an MLP: init variance input 1/fan_in,
/// hidden 1/fan_in, output 1/fan_in²; all biases variance 1; SGD lr input and biases
/// η·fan_out, hidden η, output η/fan_in; Adam lr input and biases η, hidden and output
/// η/fan_in. (The input layer's and output layer's non-width fans are fixed here, so only
/// the width exponents matter.)
fn mup_paper(role: Role) -> Row {
    match role {
        Role::Input => [
            law(-1.0, 0.0),
            law(0.0, 0.0),
            law(0.0, 1.0),
            law(0.0, 1.0),
            law(0.0, 0.0),
            law(0.0, 0.0),
        ],
        Role::Hidden => [
            law(-1.0, 0.0),
            law(0.0, 0.0),
            law(0.0, 0.0),
            law(0.0, 1.0),
            law(-1.0, 0.0),
            law(0.0, 0.0),
        ],
        Role::Output => [
            law(-2.0, 0.0),
            law(0.0, 0.0),
            law(-1.0, 0.0),
            law(0.0, 1.0),
            law(-1.0, 0.0),
            law(0.0, 0.0),
        ],
    }
}

/// Tensor Programs IV (Yang & Hu 2021), Table 1, NTK: W = n^(−a)·w with a = 0 for the
/// first layer and ½ after, w ~ N(0, 1), learning rate η (c = 0), biases not multiplied.
/// Effective variance: input 1, later layers 1/fan_in; effective SGD step n^(−2a),
/// effective Adam step n^(−a).
fn ntk_paper(role: Role) -> Row {
    match role {
        Role::Input => [law(0.0, 0.0); 6],
        Role::Hidden | Role::Output => [
            law(-1.0, 0.0),
            law(0.0, 0.0),
            law(-1.0, 0.0),
            law(0.0, 0.0),
            law(-0.5, 0.0),
            law(0.0, 0.0),
        ],
    }
}

/// The standard parametrization: the start's variance (He: 2/fan_in; PyTorch's bias
/// U(±1/√fan_in): 1/(3 fan_in)), one learning rate.
fn sp_paper(role: Role) -> Row {
    let var = match role {
        Role::Input => law(0.0, 0.0),
        _ => law(-1.0, 0.0),
    };
    [
        var,
        var,
        law(0.0, 0.0),
        law(0.0, 0.0),
        law(0.0, 0.0),
        law(0.0, 0.0),
    ]
}

/// What the implementation's multipliers make of a He start (weight variance 2/fan_in) and
/// PyTorch's bias (variance 1/(3 fan_in)): the six effective quantities of the table.
fn effective(setup: &Setup, role: Role, fan_in: usize, fan_out: usize) -> [f64; 6] {
    let sgd = setup.multipliers(role, fan_in, fan_out, Family::Sgd);
    let adam = setup.multipliers(role, fan_in, fan_out, Family::Adam);
    assert_eq!(
        sgd.forward, adam.forward,
        "the forward pass is the optimizer's"
    );
    let c = sgd.forward;
    let fi = fan_in as f64;
    [
        c * c * sgd.weight_variance * 2.0 / fi,
        sgd.bias_variance / (3.0 * fi),
        // SGD on w = W/c: ΔW = c·Δw = −c²·lr·μ·∂L/∂W.
        c * c * sgd.weight_lr,
        sgd.bias_lr,
        // Adam's step on w is ≈ lr·μ per entry whatever the gradient's scale: ΔW = c·lr·μ.
        c * adam.weight_lr,
        adam.bias_lr,
    ]
}

/// Checks, for each role, that every effective quantity scales between the base width and
/// wider (and narrower) networks as the paper's law says: the ratio of the implementation's
/// values equals the ratio of the law's.
fn check_table(p: Parametrization, paper: fn(Role) -> Row) {
    let base = 64;
    let setup = Setup::new(p, base);
    let (features, classes) = (784, 10);
    let names = [
        "weight variance",
        "bias variance",
        "SGD weight lr",
        "SGD bias lr",
        "Adam weight lr",
        "Adam bias lr",
    ];
    for role in [Role::Input, Role::Hidden, Role::Output] {
        let fans = |n: usize| match role {
            Role::Input => (features, n),
            Role::Hidden => (n, n),
            Role::Output => (n, classes),
        };
        let (fi0, fo0) = fans(base);
        let at_base = effective(&setup, role, fi0, fo0);
        for n in [16, 128, 256, 4096] {
            let (fi, fo) = fans(n);
            let got = effective(&setup, role, fi, fo);
            for (q, law) in paper(role).iter().enumerate() {
                let want = (fi as f64 / fi0 as f64).powf(law.fan_in)
                    * (fo as f64 / fo0 as f64).powf(law.fan_out);
                let ratio = got[q] / at_base[q];
                assert!(
                    (ratio - want).abs() <= 1e-12 * want,
                    "{p} {} {}: width {n} / base {base} = {ratio}, the paper's law gives {want}",
                    role.name(),
                    names[q],
                );
            }
        }
    }
}

#[test]
fn mup_multipliers_match_tensor_programs_v_table_3() {
    check_table(Parametrization::Mup, mup_paper);
}

#[test]
fn ntk_multipliers_match_tensor_programs_iv_table_1() {
    check_table(Parametrization::Ntk, ntk_paper);
}

#[test]
fn sp_multipliers_are_the_start() {
    check_table(Parametrization::Standard, sp_paper);
}

// -------------------------------------------------------- mup in PyTorch, trajectory

const TOLERANCE: f64 = 1e-12;

fn mlp(width: usize, activation: Activation) -> Network<f64> {
    let layers = vec![
        Layer::Dense(Dense::zeros(5, width)),
        Layer::Activation(activation),
        Layer::Dense(Dense::zeros(width, width)),
        Layer::Activation(activation),
        Layer::Dense(Dense::zeros(width, 3)),
    ];
    Network::new(5, layers, Loss::SoftmaxCrossEntropy).unwrap()
}

/// Full-batch training; the loss before each update.
fn train(network: &mut Network<f64>, optimizer: &mut Optimizer<f64>, steps: usize) -> Vec<f64> {
    let (x, y) = data();
    let targets = TargetsView::Classes(&y);
    let mut ws = NetworkWorkspace::new(network, 24);
    let mut grads = ParamList::zeros_like(network);
    optimizer.prepare(network);
    (0..steps)
        .map(|_| {
            let loss = network.loss_and_gradients(x.view(), targets, &mut ws, &mut grads);
            optimizer.step(network, &grads, 1);
            loss
        })
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// tests/pytorch/mup_reference.py's case `name`: the same network at width 16 with base
/// width 4, filled by the formulas, then μP applied (mup's `set_base_shapes`), trained by
/// the case's optimizer.
fn mup_case(name: &str, optimizer: Optimizer<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pytorch")
        .join(format!("{name}.json"));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let width = expected["width"].as_u64().unwrap() as usize;
    let base = expected["base_width"].as_u64().unwrap() as usize;
    let mut network = mlp(width, Activation::Tanh);
    fill(&mut network);
    let mut optimizer = optimizer;
    Setup::new(Parametrization::Mup, base)
        .apply(&mut network, Family::of(&optimizer))
        .unwrap();
    let steps = expected["steps"].as_u64().unwrap() as usize;
    let losses = train(&mut network, &mut optimizer, steps);
    let want = floats(&expected["losses"]);
    let gap = losses
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        gap <= TOLERANCE,
        "{name}: losses differ from mup's by {gap:e}"
    );
    for (k, p) in expected["final_params"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let g = network
            .tensor(k)
            .iter()
            .zip(floats(p))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(g <= 1e-10, "{name}: parameter {k} differs by {g:e}");
    }
    eprintln!("{name}: {steps} steps, max |Δloss| = {gap:e}");
}

#[test]
fn mup_sgd_matches_pytorch_mup() {
    mup_case("mup-sgd", Optimizer::Sgd(Sgd::with(0.05, 0.9, 0.001)));
}

#[test]
fn mup_adam_matches_pytorch_mup() {
    let mut adam = Adam::new(0.01);
    adam.weight_decay = 0.01;
    mup_case("mup-adam", Optimizer::Adam(adam));
}

#[test]
fn mup_adamw_matches_pytorch_mup() {
    let mut adamw = Adam::adamw(0.01);
    adamw.weight_decay = 0.1;
    mup_case("mup-adamw", Optimizer::Adam(adamw));
}

// ------------------------------------------------------------------ identities

fn optimizers() -> Vec<Optimizer<f64>> {
    vec![
        Optimizer::Sgd(Sgd::with(0.1, 0.9, 0.01)),
        Optimizer::Adam(Adam::new(0.01)),
        Optimizer::Adam(Adam::adamw(0.01)),
    ]
}

/// The losses of 30 steps at width 32 under `setup`, from the same filled start.
fn trajectory(setup: Option<Setup>, optimizer: &Optimizer<f64>) -> (Vec<f64>, Network<f64>) {
    let mut network = mlp(32, Activation::Relu);
    fill(&mut network);
    let mut optimizer = optimizer.clone();
    if let Some(setup) = setup {
        setup.apply(&mut network, Family::of(&optimizer)).unwrap();
    }
    let losses = train(&mut network, &mut optimizer, 30);
    (losses, network)
}

#[test]
fn sp_changes_nothing() {
    for optimizer in optimizers() {
        let (plain, a) = trajectory(None, &optimizer);
        let (sp, b) = trajectory(Some(Setup::new(Parametrization::Standard, 8)), &optimizer);
        assert_eq!(a, b, "the same network, bit for bit");
        assert_eq!(plain, sp);
    }
}

#[test]
fn mup_and_ntk_at_the_base_width_are_sp_bit_for_bit() {
    for p in [Parametrization::Mup, Parametrization::Ntk] {
        for optimizer in optimizers() {
            let (plain, a) = trajectory(None, &optimizer);
            let (at_base, b) = trajectory(Some(Setup::new(p, 32)), &optimizer);
            assert_eq!(a, b, "{p}: same network after training");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&plain), bits(&at_base), "{p}");
            // Away from the base width the same start trains differently.
            let (elsewhere, _) = trajectory(Some(Setup::new(p, 8)), &optimizer);
            assert_ne!(
                bits(&plain),
                bits(&elsewhere),
                "{p} at base 8 changes training"
            );
        }
    }
}

#[test]
fn roles_that_cannot_be_told_apart_are_refused() {
    let one = Network::<f64>::new(
        5,
        vec![Layer::Dense(Dense::zeros(5, 3))],
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    let mut net = one.clone();
    let err = Setup::new(Parametrization::Mup, 4)
        .apply(&mut net, Family::Sgd)
        .unwrap_err();
    assert!(err.contains("at least one hidden layer"), "{err}");
    assert_eq!(net, one, "nothing changed");
    let err = Setup::new(Parametrization::Mup, 0)
        .apply(&mut mlp(8, Activation::Relu), Family::Sgd)
        .unwrap_err();
    assert!(err.contains("base_width"), "{err}");
}

// ------------------------------------------------------ the printed table, bad input

/// Evaluates one formula of the printed table at m_in, m_out (readout_zero off).
fn formula(text: &str, m_in: f64, m_out: f64) -> f64 {
    match text.trim_end_matches(" (0 zero)") {
        "1" => 1.0,
        "m_in" => m_in,
        "m_out" => m_out,
        "1/m_in" => 1.0 / m_in,
        "m_out/m_in" => m_out / m_in,
        "1/√m_in" => 1.0 / m_in.sqrt(),
        other => panic!("formula {other:?} not known to the test"),
    }
}

#[test]
fn the_printed_table_is_what_the_multipliers_do() {
    use initlab::nn::parametrization::TABLE;
    let base = 64;
    let (fan_in, fan_out) = (256, 512);
    for row in &TABLE {
        let setup = Setup::new(row.parametrization, base);
        for role in [Role::Input, Role::Hidden, Role::Output] {
            if !(row.roles == "all" || row.roles.contains(role.name())) {
                continue;
            }
            let m_in = if role == Role::Input { 1.0 } else { 4.0 };
            let m_out = if role == Role::Output { 1.0 } else { 8.0 };
            let sgd = setup.multipliers(role, fan_in, fan_out, Family::Sgd);
            let adam = setup.multipliers(role, fan_in, fan_out, Family::Adam);
            let [wv, bv, forward, sgd_lr, adam_lr] = row.formulas;
            let pair = |t: &str| {
                let (w, b) = t.split_once(", ").unwrap();
                (formula(w, m_in, m_out), formula(b, m_in, m_out))
            };
            let at = format!("{} {}", row.parametrization, role.name());
            assert_eq!(sgd.weight_variance, formula(wv, m_in, m_out), "{at}");
            assert_eq!(sgd.bias_variance, formula(bv, m_in, m_out), "{at}");
            assert_eq!(sgd.forward, formula(forward, m_in, m_out), "{at}");
            assert_eq!((sgd.weight_lr, sgd.bias_lr), pair(sgd_lr), "{at} SGD");
            assert_eq!((adam.weight_lr, adam.bias_lr), pair(adam_lr), "{at} Adam");
        }
    }
}

/// Runs `initlab experiment` on xor (2-4-1) with `network_extra` added to `[network]` and
/// `args`; returns (exit code, stderr) and checks that nothing was written.
fn refused(network_extra: &str, args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let hidden = if network_extra.contains("hidden =") {
        ""
    } else {
        "hidden = [4]"
    };
    let toml = format!(
        "name = \"t\"\nseeds = 1\ninits = [\"he-normal\"]\n[data]\nsource = \"xor\"\n\
         [network]\n{hidden}\nactivations = [\"tanh\"]\nloss = \"bce\"\n{network_extra}\n\
         [training]\nepochs = 2\nlearning_rate = 0.1\n"
    );
    std::fs::write(dir.path().join("t.toml"), toml).unwrap();
    let out = assert_cmd::Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir.path())
        .args(["experiment", "t.toml", "--out", "out", "-q"])
        .args(args)
        .output()
        .unwrap();
    assert!(!dir.path().join("out").exists(), "nothing written");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_parametrization_settings_exit_2_naming_the_key() {
    for (extra, args, wanted) in [
        (
            "parametrization = \"mu\"",
            &[][..],
            "unknown parametrization `mu`",
        ),
        ("", &["--parametrization", "xyz"][..], "--parametrization"),
        (
            "parametrization = \"mup\"\nbase_width = 0",
            &[][..],
            "network.base_width",
        ),
        (
            "parametrization = \"mup\"\nbase_width = -4",
            &[][..],
            "got -4",
        ),
        ("", &["--base-width", "0"][..], "--base-width"),
        ("readout_zero = true", &[][..], "network.readout_zero"),
        (
            "parametrization = \"mup\"\nresidual = true\nhidden = [4, 4, 4]",
            &[][..],
            "residual blocks",
        ),
    ] {
        let (code, stderr) = refused(extra, args);
        assert_eq!(code, 2, "{extra} {args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{extra} {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // No hidden layer: the input layer is the readout.
    let (code, stderr) = refused("hidden = []", &["--parametrization", "mup"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("at least one hidden layer"), "{stderr}");
}
