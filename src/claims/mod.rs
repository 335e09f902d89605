//! `initlab claims`: the claims of the beginner's guide to weight initialization that
//! initlab began from, put to measurement (README, "What the guide claims, and what
//! initlab measures"). Each claim cites where the guide makes it: a section (`§2`) or a row
//! of its summary table (`row 6`). Three more ask whether the start still matters with
//! BatchNorm, under Adam and in deep residual networks, and cite their papers.
//!
//! Each claim is a module of its own — its statement ([`Claim`]), its measurements and its
//! verdict rule — listed once in [`CLAIMS`]; [`measure`] holds the measurements they share.
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

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::inspect::InspectConfig;
use crate::nn::{Activation, Init};
use crate::theory::{Length, MeanField, Phase};

pub mod measure;

pub mod adam;
pub mod batchnorm;
pub mod he_relu_forward;
pub mod no_exploding;
pub mod residual_depth;
pub mod scaling_logic;
pub mod too_large_too_small;
pub mod training_faster;
pub mod vanishing_relu;
pub mod xavier_balanced;
pub mod zeros_clones;

pub use he_relu_forward::he_keeps_relu;
pub use measure::{Propagation, distinct_units, propagate, worst_loss};

pub use no_exploding::no_exploding;
pub use scaling_logic::{layer_gains, scaling_logic};
pub use too_large_too_small::too_large_or_small;
pub use training_faster::training_faster;
pub use vanishing_relu::vanishing_relu;
pub use xavier_balanced::xavier_balanced;
pub use zeros_clones::zeros_make_clones;

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

/// A claim: what it says, where the guide (or the paper) says it, and how it is measured.
/// Each claim is a module of its own with its `CLAIM` (the statement), its measurements
/// and its verdict rule; adding one is a new module and a line in [`CLAIMS`].
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    /// Short identifier (the CSV's `claim` column).
    pub id: &'static str,
    /// Where the claim is made (`§2`, `row 6`, or the paper).
    pub source: &'static str,
    /// The claim, as it is made.
    pub statement: &'static str,
    /// Measures the claim with `initlab claims`' options (depth ≥ 2 and width ≥ 1, as
    /// [`run_all`] passes them) and computes the verdict.
    pub measure: fn(&ClaimsOptions) -> ClaimReport,
}

impl Claim {
    /// The report of this claim on `checks` and `evidence`, its verdict computed from the
    /// checks.
    pub fn report(&self, checks: Vec<Check>, evidence: Vec<Evidence>) -> ClaimReport {
        ClaimReport::new(self.id, self.source, self.statement, checks, evidence)
    }
}

/// Every claim `initlab claims` measures, in the order it prints them.
pub const CLAIMS: &[Claim] = &[
    zeros_clones::CLAIM,
    too_large_too_small::CLAIM,
    xavier_balanced::CLAIM,
    he_relu_forward::CLAIM,
    vanishing_relu::CLAIM,
    no_exploding::CLAIM,
    scaling_logic::CLAIM,
    training_faster::CLAIM,
    batchnorm::CLAIM,
    adam::CLAIM,
    residual_depth::CLAIM,
];

/// Every claim of [`CLAIMS`], measured with `options`.
pub fn run_all(options: &ClaimsOptions) -> Vec<ClaimReport> {
    let _mode = crate::nn::float::DenormalMode::Flush.enter(); // as in training
    let options = ClaimsOptions {
        depth: options.depth.max(2),
        width: options.width.max(1),
        ..options.clone()
    };
    CLAIMS.iter().map(|c| (c.measure)(&options)).collect()
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
