//! `initlab claims`: the claims of the beginner's guide to weight initialization that
//! initlab began from, put to measurement (README, "What the guide claims, and what
//! initlab measures"). Each claim cites where the guide makes it: a section (`§2`) or a row
//! of its summary table (`row 6`).
//!
//! Each claim is checked by short measurements — signal propagation at initialization with
//! [`crate::inspect`], single-layer variance gains, and short training runs with the
//! experiment runner — and every verdict is computed from those numbers: a claim is split
//! into [`Check`]s, each a condition (an activation, a depth, a width ratio…) with a
//! measured outcome that passes or fails a stated threshold. All checks pass → supported;
//! none → not supported; some → mixed, and the report says under which conditions it holds.
//!
//! Thresholds, stated once:
//! - a signal is *balanced* when its geometric-mean change per layer is within
//!   [`BALANCED`] (×0.8 to ×1.25 per layer) — the standard start's ×0.58 and Xavier-on-ReLU's
//!   ×0.71 fall outside, Xavier-on-tanh's slow drift (≈ ×0.94) falls inside;
//! - it *shrinks to ~0* when its overall change over the depth is below [`SHRUNK`];
//! - it *explodes* when its per-layer factor exceeds the upper end of [`BALANCED`].
//!
//! Where the mean-field theory ([`crate::theory`]) explains a verdict, the check cites it
//! ([`Cited`]): σ_w² and σ_b² of the start, χ₁ at the fixed point and the phase (ordered /
//! critical / chaotic), and the per-layer factors the theory predicts for the network
//! measured (the same depth, width and unit-variance input as the measurement), printed
//! beside the measured ones. For the ReLU family the predicted factor is exactly √χ₁ per
//! layer both ways (Xavier: √0.5 ≈ ×0.71, He: ×1); for tanh and sigmoid it depends on the
//! depth, as q moves towards q*. Every cited number is computed, none is written in.

use crate::nn::ParamSet;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::AtomicBool;

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::experiment::spec::{DataSpec, ExperimentSpec, InitEntry, NetworkSpec, TrainingSpec};
use crate::experiment::{Experiment, prepare, runner};
use crate::inspect::{InspectConfig, InspectRow, inspect};
use crate::nn::gemm::{GemmScratch, gemm};
use crate::nn::{Activation, Fan, Init, Loss};
use crate::theory::{Length, MeanField, Phase};

/// Per-layer factor range (low, high) counted as "balanced".
pub const BALANCED: (f64, f64) = (0.8, 1.25);
/// Overall change (top / first layer) below which a signal counts as shrunk to ~0.
pub const SHRUNK: f64 = 1e-3;

/// Options of `initlab claims`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimsOptions {
    /// Units per hidden layer of the propagation measurements.
    pub width: usize,
    /// Number of hidden layers of the propagation measurements (the deep ReLU check uses
    /// three times as many).
    pub depth: usize,
    /// Seed of every measurement.
    pub seed: u64,
    /// Worker threads of the training runs.
    pub threads: usize,
}

impl Default for ClaimsOptions {
    fn default() -> Self {
        ClaimsOptions {
            width: 128,
            depth: 10,
            seed: 0,
            threads: 2,
        }
    }
}

/// The verdict on a claim, from its checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed.
    Supported,
    /// Some checks passed, some failed.
    Mixed,
    /// No check passed.
    NotSupported,
}

impl Verdict {
    /// From the pass/fail of the checks.
    pub fn from_checks(checks: &[Check]) -> Verdict {
        let passed = checks.iter().filter(|c| c.passed).count();
        if passed == checks.len() && passed > 0 {
            Verdict::Supported
        } else if passed == 0 {
            Verdict::NotSupported
        } else {
            Verdict::Mixed
        }
    }

    /// `supported`, `mixed` or `not supported`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Mixed => "mixed",
            Verdict::NotSupported => "not supported",
        }
    }
}

/// One number behind a claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// The condition measured (e.g. `xavier-normal, tanh, depth 10`).
    pub condition: String,
    /// What was measured (e.g. `forward factor per layer`).
    pub measure: String,
    /// The value.
    pub value: f64,
}

/// One condition of a claim with its measured outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The condition (e.g. `tanh, depth 10`).
    pub condition: String,
    /// What was found, with the numbers.
    pub finding: String,
    /// Whether the finding agrees with the claim.
    pub passed: bool,
    /// What the mean-field theory says about the condition, where it explains the finding.
    pub theory: Option<Cited>,
}

/// The mean-field theory's figures for one start × activation on the network measured
/// (see [`cite`]), with the measured per-layer factors they are cited beside.
#[derive(Clone, Debug, PartialEq)]
pub struct Cited {
    /// σ_w² = Var(w) · fan_in of a square hidden layer.
    pub sigma_w2: f64,
    /// σ_b² = Var(b) of the start's default bias.
    pub sigma_b2: f64,
    /// χ₁ at the fixed point q* reached from unit input variance (its limit q → 0⁺ where
    /// q* = 0): the factor by which the squared gradient changes per layer deep in the
    /// network.
    pub chi1: f64,
    /// Ordered, critical or chaotic, by χ₁.
    pub phase: Phase,
    /// The predicted activation std of the top hidden layer / of the first, per layer
    /// (geometric mean over `depth − 1` steps, as [`Propagation::forward_per_layer`]);
    /// `None` when the predicted q overflows.
    pub forward_per_layer: Option<f64>,
    /// The predicted gradient std at layer 1 / at the top layer, per layer (as
    /// [`Propagation::backward_per_layer`]).
    pub backward_per_layer: Option<f64>,
    /// The predicted activation std of the first hidden layer.
    pub first_std: Option<f64>,
    /// The predicted activation std of the top hidden layer.
    pub top_std: Option<f64>,
    /// The measured forward factor per layer ([`Propagation::forward_per_layer`]).
    pub measured_forward: f64,
    /// The measured backward factor per layer ([`Propagation::backward_per_layer`]).
    pub measured_backward: f64,
}

/// The theory of `init` with `activation` on the network [`propagate`] measured as
/// `measured` (its depth, square hidden layers of `width`, standard-normal inputs, unit
/// gradient injected at the output), or `None` when the theory does not apply (zero,
/// constant or data-dependent weights).
pub fn cite(
    init: &Init,
    activation: Activation,
    measured: &Propagation,
    width: usize,
) -> Option<Cited> {
    let depth = measured.rows.len();
    let config = InspectConfig::new(vec![init.clone()], activation, depth, width);
    let theory = crate::inspect::theory(&config).pop()?;
    let (scales, analysis) = theory.summary.ok()?;
    // Where q* is 0 (ReLU below σ_w² = 2, tiny starts), χ₁ *at* q = 0 depends on the
    // convention φ′(0) (ReLU's is 0); the signal only approaches 0, so cite the limit
    // q → 0⁺ (ReLU: σ_w²/2 at every q > 0).
    let chi1 = match analysis.q_star {
        Length::Settles(0.0) => MeanField::new(activation, scales.sigma_w2, scales.sigma_b2)
            .ok()?
            .chi1(f64::MIN_POSITIVE),
        _ => analysis.chi1,
    };
    let layers = &theory.layers;
    let (first, top) = (layers.first()?, layers.last()?);
    let steps = (depth.max(2) - 1) as f64;
    let per_layer = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 && (a / b).is_finite() => Some((a / b).powf(1.0 / steps)),
        _ => None,
    };
    Some(Cited {
        sigma_w2: scales.sigma_w2,
        sigma_b2: scales.sigma_b2,
        chi1,
        phase: Phase::of(chi1),
        forward_per_layer: per_layer(top.activation_std, first.activation_std),
        backward_per_layer: per_layer(first.gradient_std, top.gradient_std),
        first_std: first.activation_std,
        top_std: top.activation_std,
        measured_forward: measured.forward_per_layer,
        measured_backward: measured.backward_per_layer,
    })
}

impl Cited {
    /// The one-line citation, e.g. `σ_w² = 1, χ₁ = 0.500, ordered — predicted ×0.707/layer
    /// forward, ×0.707 backward (measured ×0.711, ×0.714)`.
    pub fn text(&self) -> String {
        let bias = if self.sigma_b2 > 0.0 {
            format!(", σ_b² = {}", fx(self.sigma_b2))
        } else {
            String::new()
        };
        let predicted =
            |v: Option<f64>| v.map_or("overflow".to_string(), |v| format!("×{}", fx(v)));
        format!(
            "σ_w² = {}{bias}, χ₁ = {}, {} — predicted {}/layer forward, {} backward (measured \
             ×{}, ×{})",
            fx(self.sigma_w2),
            fx(self.chi1),
            self.phase.name(),
            predicted(self.forward_per_layer),
            predicted(self.backward_per_layer),
            fx(self.measured_forward),
            fx(self.measured_backward)
        )
    }
}

/// The theory rows of a check's evidence (CSV `measure`s starting with `theory:`).
fn push_theory(evidence: &mut Vec<Evidence>, condition: &str, t: &Cited) {
    ev(evidence, condition, "theory: sigma_w2", t.sigma_w2);
    ev(evidence, condition, "theory: sigma_b2", t.sigma_b2);
    ev(evidence, condition, "theory: chi1", t.chi1);
    if let Some(f) = t.forward_per_layer {
        ev(evidence, condition, "theory: forward factor per layer", f);
    }
    if let Some(b) = t.backward_per_layer {
        ev(evidence, condition, "theory: backward factor per layer", b);
    }
}

/// The theory of `init` × `activation` beside the measurement `p`, its rows added to
/// `evidence` under `condition`.
fn cite_into(
    evidence: &mut Vec<Evidence>,
    condition: &str,
    init: &Init,
    activation: Activation,
    p: &Propagation,
    width: usize,
) -> Option<Cited> {
    let theory = cite(init, activation, p, width);
    if let Some(t) = &theory {
        push_theory(evidence, condition, t);
    }
    theory
}

/// A claim with its evidence and verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimReport {
    /// Short identifier (the CSV's `claim` column).
    pub id: &'static str,
    /// Where the guide says it (`§2`, `row 6`).
    pub source: &'static str,
    /// The claim, as the guide makes it.
    pub claim: &'static str,
    /// The checks, one per condition.
    pub checks: Vec<Check>,
    /// The numbers.
    pub evidence: Vec<Evidence>,
    /// Computed from the checks.
    pub verdict: Verdict,
}

impl ClaimReport {
    fn new(
        id: &'static str,
        source: &'static str,
        claim: &'static str,
        checks: Vec<Check>,
        evidence: Vec<Evidence>,
    ) -> Self {
        let verdict = Verdict::from_checks(&checks);
        ClaimReport {
            id,
            source,
            claim,
            checks,
            evidence,
            verdict,
        }
    }
}

fn ev(evidence: &mut Vec<Evidence>, condition: &str, measure: &str, value: f64) {
    evidence.push(Evidence {
        condition: condition.to_string(),
        measure: measure.to_string(),
        value,
    });
}

fn init(spec: &str) -> Init {
    spec.parse().expect("built-in init spec parses")
}

fn act(spec: &str) -> Activation {
    spec.parse().expect("built-in activation parses")
}

fn balanced(f: f64) -> bool {
    (BALANCED.0..=BALANCED.1).contains(&f)
}

/// What one init does to a deep network at initialization, summarized.
#[derive(Clone, Debug, PartialEq)]
pub struct Propagation {
    /// The per-layer rows from [`inspect`].
    pub rows: Vec<InspectRow>,
    /// Activation std of the top hidden layer / of the first.
    pub forward_overall: f64,
    /// Geometric-mean forward change per layer.
    pub forward_per_layer: f64,
    /// Gradient std at the first hidden layer / at the top one (< 1: shrinks towards the input).
    pub backward_overall: f64,
    /// Geometric-mean backward change per layer (going down).
    pub backward_per_layer: f64,
    /// Mean saturated fraction over the layers (bounded activations).
    pub saturated: Option<f64>,
}

/// Propagates a batch through a fresh `depth` × `width` network (f64), see [`inspect`].
pub fn propagate(
    init: &Init,
    activation: Activation,
    depth: usize,
    width: usize,
    seed: u64,
) -> Propagation {
    let mut config = InspectConfig::new(vec![init.clone()], activation, depth, width);
    config.batch = 256;
    config.seed = seed;
    let rows = inspect::<f64>(&config);
    let first = &rows[0];
    let top = &rows[rows.len() - 1];
    let steps = (depth.max(2) - 1) as f64;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let forward_overall = ratio(top.stats.activation_std, first.stats.activation_std);
    let backward_overall = ratio(first.stats.gradient_std, top.stats.gradient_std);
    let sat: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.stats.saturated_fraction)
        .collect();
    Propagation {
        forward_per_layer: forward_overall.powf(1.0 / steps),
        backward_per_layer: backward_overall.powf(1.0 / steps),
        forward_overall,
        backward_overall,
        saturated: (!sat.is_empty()).then(|| sat.iter().sum::<f64>() / sat.len() as f64),
        rows,
    }
}

fn push_propagation(evidence: &mut Vec<Evidence>, condition: &str, p: &Propagation) {
    ev(
        evidence,
        condition,
        "forward factor per layer",
        p.forward_per_layer,
    );
    ev(
        evidence,
        condition,
        "forward change top/first",
        p.forward_overall,
    );
    ev(
        evidence,
        condition,
        "backward factor per layer",
        p.backward_per_layer,
    );
    ev(
        evidence,
        condition,
        "backward change first/top",
        p.backward_overall,
    );
    ev(
        evidence,
        condition,
        "activation std first layer",
        p.rows[0].stats.activation_std,
    );
    if let Some(s) = p.saturated {
        ev(evidence, condition, "saturated fraction (mean)", s);
    }
}

fn fx(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if (1e-2..1e4).contains(&a) {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// Short training runs of `spec`; returns per start (in order) its label and its runs'
/// records and weights.
fn train_runs(spec: ExperimentSpec, threads: usize) -> Vec<(String, Vec<runner::RunResult<f64>>)> {
    let exp = Experiment::from_spec(spec, "claims", None).expect("claims' experiments are valid");
    let dataset = prepare::load(&exp.spec.data, None)
        .unwrap_or_else(|_| panic!("claims data generator failed"));
    let outputs =
        prepare::output_width(&dataset, exp.spec.network.loss).expect("classification data");
    let runs = runner::grid(&exp, None);
    let options = runner::RunOptions {
        threads: threads.max(1),
        save_weights: true,
    };
    let shared = runner::RunContext {
        spec: &exp.spec,
        inits: &exp.inits,
        points: &exp.sweep.points,
        dataset: &dataset,
        outputs,
        class_names: &[],
    };
    let results =
        runner::run_grid::<f64>(shared, &runs, &options, &AtomicBool::new(false), &|_, _| {});
    exp.inits
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mine = results
                .iter()
                .filter(|x| x.spec.init == i)
                .cloned()
                .collect();
            (r.label.clone(), mine)
        })
        .collect()
}

/// A start by scheme name, with parameters and an optional bias start.
fn start(name: &str, params: &[(&str, f64)], bias: Option<&str>) -> InitEntry {
    InitEntry::Table {
        name: name.into(),
        label: None,
        bias: bias.map(|b| Box::new(InitEntry::Name(b.into()))),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), toml::Value::Float(*v)))
            .collect(),
    }
}

/// The worst of the seeds' final losses: the largest, and NaN (a diverged run) if any
/// is NaN (`f64::max` alone would drop it, and the diverged run with it).
pub fn worst_loss(losses: impl IntoIterator<Item = f64>) -> f64 {
    losses.into_iter().fold(0.0, |worst, loss| {
        if worst.is_nan() || loss.is_nan() {
            f64::NAN
        } else {
            worst.max(loss)
        }
    })
}

/// Number of distinct hidden units (rows of the first weight matrix with their bias),
/// two units being the same when every entry differs by less than 1e-9.
pub fn distinct_units(layer: &crate::nn::Dense<f64>) -> usize {
    let w = &layer.weight;
    let mut reps: Vec<usize> = Vec::new();
    for r in 0..w.nrows() {
        let same = reps.iter().any(|&q| {
            (layer.bias[r] - layer.bias[q]).abs() < 1e-9
                && w.row(r)
                    .iter()
                    .zip(w.row(q).iter())
                    .all(|(a, b)| (a - b).abs() < 1e-9)
        });
        if !same {
            reps.push(r);
        }
    }
    reps.len()
}

/// §2: zero (or constant) weights make the hidden units clones; random ones do not.
/// `bias` is the bias start of the constant starts (`None` = zeros): a random bias breaks
/// the symmetry, and the claim's condition with it.
pub fn zeros_make_clones(bias: Option<&str>, threads: usize) -> ClaimReport {
    let spec = ExperimentSpec {
        seeds: 2,
        ..ExperimentSpec::new(
            "claims-clones",
            DataSpec::new("xor"),
            NetworkSpec::new(vec![4], vec![Activation::Tanh], Loss::BinaryCrossEntropy),
            TrainingSpec {
                log_every: 1000,
                ..TrainingSpec::new(1000, 0.5)
            },
            vec![
                start("zeros", &[], bias),
                start("constant", &[("value", 0.5)], bias),
                InitEntry::Name("xavier-normal".into()),
            ],
        )
    };
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for (label, runs) in train_runs(spec, threads) {
        let distinct: Vec<usize> = runs
            .iter()
            .map(|r| {
                let snapshot = r.snapshot.as_ref().expect("weights kept");
                // Tensors 0 and 1: the first layer's weight and bias.
                let shape = (snapshot.infos[0].shape[0], snapshot.infos[0].shape[1]);
                let layer = crate::nn::Dense {
                    weight: ndarray::Array2::from_shape_vec(
                        shape,
                        snapshot.final_.tensor(0).to_vec(),
                    )
                    .expect("the first weight's shape"),
                    bias: ndarray::Array1::from_vec(snapshot.final_.tensor(1).to_vec()),
                };
                distinct_units(&layer)
            })
            .collect();
        let acc: Vec<f64> = runs
            .iter()
            .map(|r| {
                r.records
                    .last()
                    .and_then(|x| x.train_accuracy)
                    .unwrap_or(0.0)
            })
            .collect();
        let worst = *distinct.iter().max().unwrap_or(&0);
        let best_acc = acc.iter().copied().fold(0.0, f64::max);
        let cond = format!(
            "{label}{}, XOR 2-4-1 tanh",
            bias.map_or(String::new(), |b| format!(" (bias {b})"))
        );
        ev(
            &mut evidence,
            &cond,
            "distinct hidden units of 4 (max over seeds)",
            worst as f64,
        );
        ev(&mut evidence, &cond, "train accuracy (best seed)", best_acc);
        let random = label == "xavier-normal";
        let passed = if random { worst > 1 } else { worst == 1 };
        checks.push(Check {
            condition: cond,
            finding: format!(
                "{worst} distinct unit(s) of 4 after 1000 epochs, accuracy ≤ {:.2}{}",
                best_acc,
                if random {
                    " (random start: expected diverse)"
                } else {
                    ""
                }
            ),
            passed,
            theory: None,
        });
    }
    ClaimReport::new(
        "zeros-clones",
        "§2",
        "If every weight starts at zero, every neuron of a layer learns the same thing: clones.",
        checks,
        evidence,
    )
}

/// §3: too-large starts blow up (ReLU) or saturate (tanh); too-small ones shrink to ~0.
pub fn too_large_or_small(depth: usize, width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for a in ["tanh", "relu"] {
        let huge = propagate(&init("huge"), act(a), depth, width, seed);
        let cond = format!("huge σ=10, {a}, depth {depth}, width {width}");
        push_propagation(&mut evidence, &cond, &huge);
        let (passed, finding) = match huge.saturated {
            Some(s) => (s > 0.5, format!("{:.0} % of outputs saturated", 100.0 * s)),
            None => (
                huge.forward_per_layer > BALANCED.1,
                format!("activation std ×{} per layer", fx(huge.forward_per_layer)),
            ),
        };
        let theory = cite_into(&mut evidence, &cond, &init("huge"), act(a), &huge, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "{finding} (σ·√fan_in = {})",
                fx(10.0 * (width as f64).sqrt())
            ),
            passed,
            theory,
        });
        let tiny = propagate(&init("tiny"), act(a), depth, width, seed);
        let cond = format!("tiny σ=0.01, {a}, depth {depth}, width {width}");
        push_propagation(&mut evidence, &cond, &tiny);
        let theory = cite_into(&mut evidence, &cond, &init("tiny"), act(a), &tiny, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "activation std ×{} per layer, ×{} over the depth (σ·√fan_in = {})",
                fx(tiny.forward_per_layer),
                fx(tiny.forward_overall),
                fx(0.01 * (width as f64).sqrt())
            ),
            passed: tiny.forward_overall < SHRUNK,
            theory,
        });
    }
    ClaimReport::new(
        "too-large-too-small",
        "§3",
        "Too-large weights make outputs blow up; too-small ones make everything shrink to ~0.",
        checks,
        evidence,
    )
}

/// §4, rows 1, 3, 5: Xavier keeps the signal balanced forward and backward (for the given
/// activations; the guide says sigmoid and tanh).
pub fn xavier_balanced(
    activations: &[Activation],
    depth: usize,
    width: usize,
    seed: u64,
) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for &a in activations {
        let p = propagate(&init("xavier-normal"), a, depth, width, seed);
        let cond = format!("xavier-normal, {}, depth {depth}", a.name());
        push_propagation(&mut evidence, &cond, &p);
        let (f, b) = (
            balanced(p.forward_per_layer),
            balanced(p.backward_per_layer),
        );
        let word = |ok: bool| if ok { "balanced" } else { "not balanced" };
        let theory = cite_into(&mut evidence, &cond, &init("xavier-normal"), a, &p, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "forward ×{}/layer ({}), backward ×{}/layer ({}); mean activation {}",
                fx(p.forward_per_layer),
                word(f),
                fx(p.backward_per_layer),
                word(b),
                fx(p.rows[0].stats.activation_mean)
            ),
            passed: f && b,
            theory,
        });
    }
    ClaimReport::new(
        "xavier-balanced",
        "§4, rows 1/3/5",
        "Xavier keeps the signal's strength the same forward and backward (sigmoid, tanh).",
        checks,
        evidence,
    )
}

/// §5, rows 3/4: He keeps ReLU's (and, slope-aware, leaky ReLU's) forward signal, and
/// starts stronger than Xavier.
pub fn he_keeps_relu(depth: usize, width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    // Slope-unaware He on a leaky ReLU, for contrast: its signal grows by √(1+a²) per layer.
    let unaware = propagate(
        &init("he-normal"),
        act("leaky-relu:0.5"),
        depth,
        width,
        seed,
    );
    push_propagation(
        &mut evidence,
        &format!("contrast: he-normal (slope 0), leaky-relu:0.5, depth {depth}"),
        &unaware,
    );
    for (i, a) in [
        ("he-normal", "relu"),
        ("he-normal:slope=0.5", "leaky-relu:0.5"),
    ] {
        let p = propagate(&init(i), act(a), depth, width, seed);
        let cond = format!("{i}, {a}, depth {depth}");
        push_propagation(&mut evidence, &cond, &p);
        let contrast = if a == "relu" {
            String::new()
        } else {
            format!(
                " (slope-unaware he-normal: ×{} over the depth)",
                fx(unaware.forward_overall)
            )
        };
        let theory = cite_into(&mut evidence, &cond, &init(i), act(a), &p, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "forward ×{}/layer, ×{} over the depth{contrast}",
                fx(p.forward_per_layer),
                fx(p.forward_overall)
            ),
            passed: balanced(p.forward_per_layer),
            theory,
        });
    }
    let he = propagate(&init("he-normal"), Activation::Relu, depth, width, seed);
    let xa = propagate(&init("xavier-normal"), Activation::Relu, depth, width, seed);
    let ratio_first = he.rows[0].stats.activation_std / xa.rows[0].stats.activation_std;
    let ratio_top =
        he.rows[depth - 1].stats.activation_std / xa.rows[depth - 1].stats.activation_std;
    let cond = format!("he-normal vs xavier-normal, relu, depth {depth}");
    ev(
        &mut evidence,
        &cond,
        "std ratio he/xavier, first layer",
        ratio_first,
    );
    ev(
        &mut evidence,
        &cond,
        "std ratio he/xavier, top layer",
        ratio_top,
    );
    // The theory's ratios: √2 at layer 1 (σ_w² 2 vs 1), then √2 more per layer (χ₁ 1 vs 1/2).
    let predicted = cite(&init("he-normal"), Activation::Relu, &he, width)
        .zip(cite(&init("xavier-normal"), Activation::Relu, &xa, width))
        .and_then(|(h, x)| {
            let first = h.first_std? / x.first_std?;
            let top = h.top_std? / x.top_std?;
            ev(
                &mut evidence,
                &cond,
                "theory: std ratio he/xavier, first layer",
                first,
            );
            ev(
                &mut evidence,
                &cond,
                "theory: std ratio he/xavier, top layer",
                top,
            );
            Some(format!(" (theory: {}× and {}×)", fx(first), fx(top)))
        })
        .unwrap_or_default();
    checks.push(Check {
        condition: cond,
        finding: format!(
            "He's activations {}× Xavier's at layer 1, {}× at layer {depth}{predicted}",
            fx(ratio_first),
            fx(ratio_top)
        ),
        passed: ratio_first > 1.0 && ratio_top > ratio_first,
        theory: None,
    });
    ClaimReport::new(
        "he-relu-forward",
        "§5, rows 3/4",
        "He keeps ReLU's signal (leaky ReLU with the slope-aware form) and starts stronger.",
        checks,
        evidence,
    )
}

/// Row 6: He prevents vanishing gradients for ReLU; Xavier "mostly, not perfect".
pub fn vanishing_relu(depths: &[usize], width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for &depth in depths {
        let he = propagate(&init("he-normal"), Activation::Relu, depth, width, seed);
        let xa = propagate(&init("xavier-normal"), Activation::Relu, depth, width, seed);
        let c_he = format!("he-normal, relu, depth {depth}");
        let c_xa = format!("xavier-normal, relu, depth {depth}");
        push_propagation(&mut evidence, &c_he, &he);
        push_propagation(&mut evidence, &c_xa, &xa);
        let t_he = cite_into(
            &mut evidence,
            &c_he,
            &init("he-normal"),
            Activation::Relu,
            &he,
            width,
        );
        let t_xa = cite_into(
            &mut evidence,
            &c_xa,
            &init("xavier-normal"),
            Activation::Relu,
            &xa,
            width,
        );
        checks.push(Check {
            condition: c_he,
            finding: format!(
                "gradient at layer 1 = {}× the top's",
                fx(he.backward_overall)
            ),
            passed: he.backward_overall > 0.1,
            theory: t_he,
        });
        // "Mostly, not perfect": the gradient shrinks, but keeps ≥ 1/10 of its size.
        let mostly = xa.backward_overall < 1.0 / BALANCED.1 && xa.backward_overall >= 0.1;
        checks.push(Check {
            condition: c_xa,
            finding: format!(
                "gradient at layer 1 = {}× the top's (×{}/layer){}",
                fx(xa.backward_overall),
                fx(xa.backward_per_layer),
                if mostly {
                    ": shrinks, not vanished"
                } else {
                    ": vanished (< 1/10)"
                }
            ),
            passed: mostly,
            theory: t_xa,
        });
    }
    ClaimReport::new(
        "vanishing-relu",
        "row 6",
        "He is very effective against vanishing gradients with ReLU; Xavier mostly, not perfectly.",
        checks,
        evidence,
    )
}

/// Row 7: both prevent exploding gradients (on their own activations, and swapped).
pub fn no_exploding(depth: usize, width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for (i, a) in [
        ("xavier-normal", "tanh"),
        ("he-normal", "relu"),
        ("xavier-normal", "relu"),
        ("he-normal", "tanh"),
    ] {
        let p = propagate(&init(i), act(a), depth, width, seed);
        let cond = format!("{i}, {a}, depth {depth}");
        push_propagation(&mut evidence, &cond, &p);
        let theory = cite_into(&mut evidence, &cond, &init(i), act(a), &p, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "gradient ×{}/layer going down, ×{} at layer 1",
                fx(p.backward_per_layer),
                fx(p.backward_overall)
            ),
            passed: p.backward_per_layer <= BALANCED.1 && p.backward_overall < 2.0,
            theory,
        });
    }
    let huge = propagate(&init("huge"), Activation::Tanh, depth, width, seed);
    let cond = format!("contrast: huge σ=10, tanh, depth {depth}");
    push_propagation(&mut evidence, &cond, &huge);
    ClaimReport::new(
        "no-exploding",
        "row 7",
        "Both Xavier and He prevent exploding gradients.",
        checks,
        evidence,
    )
}

/// Forward and backward variance gains of one freshly initialized layer `fan_in → fan_out`
/// (no activation): Var(x·Wᵀ)/Var(x) and Var(g·W)/Var(g) on standard-normal batches, and
/// the weights' standard deviation.
pub fn layer_gains(init: &Init, fan_in: usize, fan_out: usize, seed: u64) -> (f64, f64, f64) {
    let fan = Fan { fan_in, fan_out };
    let mut rng = crate::nn::init::layer_rng(seed, 0, false);
    let w: Array2<f64> = init.sample(fan, Activation::Identity, &mut rng);
    let mut data_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut normal = |rows: usize, cols: usize| {
        Array2::from_shape_simple_fn((rows, cols), || {
            let z: f64 = StandardNormal.sample(&mut data_rng);
            z
        })
    };
    let var = |a: &Array2<f64>| {
        let n = a.len() as f64;
        let m = a.sum() / n;
        a.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n
    };
    let x = normal(512, fan_in);
    let g = normal(512, fan_out);
    let _mode = crate::nn::float::DenormalMode::Flush.enter(); // as in training
    let product = |a: ArrayView2<f64>, b: ArrayView2<f64>| {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        gemm(1.0, a, b, 0.0, c.view_mut(), &mut GemmScratch::new(), 1);
        c
    };
    let forward = var(&product(x.view(), w.t())) / var(&x);
    let backward = var(&product(g.view(), w.view())) / var(&g);
    (forward, backward, var(&w).sqrt())
}

/// Row 9 and §4: Xavier divides by fan_in + fan_out ("many inputs → smaller weights"), He by
/// fan_in only. Measured on layers `fan_in → fan_out` for every pair in `shapes`.
pub fn scaling_logic(shapes: &[(usize, usize)], seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    let mut xavier_std = Vec::new();
    for &(fi, fo) in shapes {
        let (xf, xb, xs) = layer_gains(&init("xavier-normal"), fi, fo, seed);
        let (hf, hb, hs) = layer_gains(&init("he-normal"), fi, fo, seed);
        let cx = format!("xavier-normal, {fi} → {fo}");
        let ch = format!("he-normal, {fi} → {fo}");
        ev(&mut evidence, &cx, "weight std", xs);
        ev(&mut evidence, &cx, "forward variance gain", xf);
        ev(&mut evidence, &cx, "backward variance gain", xb);
        ev(&mut evidence, &ch, "weight std", hs);
        ev(
            &mut evidence,
            &ch,
            "forward variance gain (ReLU halves it)",
            hf,
        );
        ev(&mut evidence, &ch, "backward variance gain", hb);
        xavier_std.push((fi, fo, xs));
        // Xavier's promise: both directions kept (gain within the balanced band).
        checks.push(Check {
            condition: format!(
                "xavier-normal, fan_in {fi}, fan_out {fo} (ratio {:.2})",
                fi as f64 / fo as f64
            ),
            finding: format!(
                "variance gain forward ×{}, backward ×{} (He: ×{} forward, i.e. ×{} after ReLU)",
                fx(xf),
                fx(xb),
                fx(hf),
                fx(hf / 2.0)
            ),
            passed: balanced(xf) && balanced(xb),
            theory: None,
        });
    }
    // "Many inputs → smaller weights": compare shapes with the same fan_out.
    for &(fi, fo, s) in &xavier_std {
        for &(fj, fo2, s2) in &xavier_std {
            if fo == fo2 && fj > fi {
                checks.push(Check {
                    condition: format!("xavier-normal, {fi} vs {fj} inputs (fan_out {fo})"),
                    finding: format!("weight std {} → {}", fx(s), fx(s2)),
                    passed: s2 < s,
                    theory: None,
                });
            }
        }
    }
    ClaimReport::new(
        "scaling-logic",
        "§4, rows 2/9",
        "Xavier divides by all neurons (in + out): many inputs → smaller weights, signal kept.",
        checks,
        evidence,
    )
}

/// §6: both make training faster (and more stable) than tiny or huge starts: epochs to a
/// target loss on two moons, 2-16-16-16-2, per activation in `activations`.
pub fn training_faster(activations: &[&str], threads: usize) -> ClaimReport {
    let target = 0.35;
    let spec = ExperimentSpec {
        seeds: 2,
        ..ExperimentSpec::new(
            "claims-speed",
            DataSpec {
                samples: Some(200),
                noise: Some(0.1),
                ..DataSpec::new("moons")
            },
            NetworkSpec::new(
                vec![16, 16, 16],
                activations.iter().map(|a| act(a)).collect(),
                Loss::SoftmaxCrossEntropy,
            ),
            TrainingSpec {
                batch_size: Some(20),
                log_every: 5,
                ..TrainingSpec::new(150, 0.1)
            },
            vec![
                InitEntry::Name("tiny".into()),
                start("huge", &[("std", 10.0)], None),
                InitEntry::Name("xavier-normal".into()),
                InitEntry::Name("he-normal".into()),
            ],
        )
    };
    let results = train_runs(spec, threads);
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for (ai, a) in activations.iter().enumerate() {
        // Epochs to the target (worst seed; None = never), and whether any run diverged.
        let mut speed = Vec::new();
        for (label, runs) in &results {
            let runs: Vec<_> = runs.iter().filter(|r| r.spec.activation == ai).collect();
            let reach: Vec<Option<usize>> = runs
                .iter()
                .map(|r| {
                    r.records
                        .iter()
                        .find(|x| x.train_loss <= target)
                        .map(|x| x.epoch)
                })
                .collect();
            let worst = if reach.iter().all(Option::is_some) {
                reach.iter().flatten().max().copied()
            } else {
                None
            };
            let diverged = runs.iter().any(|r| r.records.iter().any(|x| x.diverged));
            let cond = format!("{label}, {a}, moons 2-16-16-16-2");
            ev(
                &mut evidence,
                &cond,
                &format!("epochs to loss ≤ {target} (worst seed; -1 never)"),
                worst.map_or(-1.0, |e| e as f64),
            );
            let last = worst_loss(
                runs.iter()
                    .map(|r| r.records.last().map_or(f64::NAN, |x| x.train_loss)),
            );
            ev(&mut evidence, &cond, "final train loss (worst seed)", last);
            speed.push((label.clone(), worst, diverged));
        }
        let show = |w: Option<usize>| w.map_or("never".to_string(), |e| format!("{e}"));
        let epochs_of = |name: &str| {
            speed
                .iter()
                .find(|(l, ..)| l == name)
                .and_then(|(_, w, _)| *w)
        };
        let bad_best = speed
            .iter()
            .filter(|(l, ..)| l == "tiny" || l == "huge")
            .map(|(_, w, _)| w.unwrap_or(usize::MAX))
            .min()
            .unwrap_or(usize::MAX);
        for (label, w, diverged) in speed.iter().filter(|(l, ..)| l != "tiny" && l != "huge") {
            let faster = w.is_some_and(|e| e < bad_best) && !diverged;
            checks.push(Check {
                condition: format!("{label}, {a}"),
                finding: format!(
                    "loss ≤ {target} at epoch {} vs tiny {} / huge {}",
                    show(*w),
                    show(epochs_of("tiny")),
                    show(epochs_of("huge"))
                ),
                passed: faster,
                theory: None,
            });
        }
    }
    ClaimReport::new(
        "training-faster",
        "§6",
        "Both Xavier and He make training faster and more stable (than tiny or huge starts).",
        checks,
        evidence,
    )
}

/// Every claim, measured with `options`.
pub fn run_all(options: &ClaimsOptions) -> Vec<ClaimReport> {
    let _mode = crate::nn::float::DenormalMode::Flush.enter(); // as in training
    let (d, w, s) = (options.depth.max(2), options.width.max(1), options.seed);
    vec![
        zeros_make_clones(None, options.threads),
        too_large_or_small(d, w, s),
        xavier_balanced(
            &[Activation::Tanh, Activation::Sigmoid, Activation::Relu],
            d,
            w,
            s,
        ),
        he_keeps_relu(3 * d, w, s),
        vanishing_relu(&[5, 3 * d], w, s),
        no_exploding(3 * d, w, s),
        scaling_logic(&[(w, w), (4 * w, w), (w, 4 * w)], s),
        training_faster(&["tanh", "relu"], options.threads),
    ]
}

/// Wraps `text` at `width` columns, every line prefixed by `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.chars().count() + word.chars().count() + 1 > width && line.trim() != "" {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
        }
        line.push_str(word);
        line.push(' ');
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The reports as text for a terminal of about 100 columns.
pub fn format_reports(reports: &[ClaimReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Balanced = change per layer within ×{}–×{}; shrunk = below ×{} over the depth.\n",
        BALANCED.0, BALANCED.1, SHRUNK
    );
    for (n, r) in reports.iter().enumerate() {
        let head = wrap(
            &format!("{}. [{}] {}", n + 1, r.source, r.claim),
            "   ",
            100,
        );
        out.push_str(head.trim_start());
        for c in &r.checks {
            let mark = if c.passed { "✓" } else { "✗" };
            out.push_str(&wrap(
                &format!("{mark} {}: {}", c.condition, c.finding),
                "     ",
                100,
            ));
            if let Some(t) = &c.theory {
                out.push_str(&wrap(&format!("theory: {}", t.text()), "       ", 100));
            }
        }
        let holds: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| c.passed)
            .map(|c| c.condition.as_str())
            .collect();
        let fails: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.condition.as_str())
            .collect();
        let mut verdict = format!("→ {}", r.verdict.name().to_uppercase());
        if r.verdict == Verdict::Mixed {
            let _ = write!(
                verdict,
                ": holds for {}; not for {}",
                holds.join("; "),
                fails.join("; ")
            );
        }
        out.push_str(&wrap(&verdict, "   ", 100));
        out.push('\n');
    }
    let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
    let _ = writeln!(
        out,
        "{} claims: {} supported, {} mixed, {} not supported.",
        reports.len(),
        count(Verdict::Supported),
        count(Verdict::Mixed),
        count(Verdict::NotSupported)
    );
    out
}

/// The CSV header of [`write_csv`].
pub const CSV_HEADER: [&str; 5] = ["claim", "condition", "measure", "value", "verdict"];

/// Writes the evidence in long format, one row per number, with the claim's verdict.
pub fn write_csv(reports: &[ClaimReport], w: impl Write) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(CSV_HEADER).map_err(io::Error::other)?;
    for r in reports {
        for e in &r.evidence {
            out.write_record([
                r.id,
                &e.condition,
                &e.measure,
                &e.value.to_string(),
                r.verdict.name(),
            ])
            .map_err(io::Error::other)?;
        }
    }
    out.flush()
}
