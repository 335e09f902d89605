//! `initlab claims`: verdicts follow the measurements — change a condition (activation,
//! depth, width ratio, bias start) and the verdict moves.

use assert_cmd::Command;
use initlab::claims::{
    self, ClaimsOptions, Verdict, distinct_units, scaling_logic, vanishing_relu, worst_loss,
    xavier_balanced,
};
use initlab::nn::Activation;

#[test]
fn xavier_verdict_moves_with_the_activation() {
    let tanh = xavier_balanced(&[Activation::Tanh], 10, 64, 0);
    assert_eq!(tanh.verdict, Verdict::Supported, "{tanh:#?}");
    let relu = xavier_balanced(&[Activation::Relu], 10, 64, 0);
    assert_eq!(relu.verdict, Verdict::NotSupported, "{relu:#?}");
    let both = xavier_balanced(&[Activation::Tanh, Activation::Relu], 10, 64, 0);
    assert_eq!(both.verdict, Verdict::Mixed);
    // Sigmoid: forward balanced, backward shrinks by about 1/4 per layer (σ'(0) = 1/4).
    let sigmoid = xavier_balanced(&[Activation::Sigmoid], 10, 64, 0);
    assert_eq!(sigmoid.verdict, Verdict::NotSupported);
    let back = sigmoid
        .evidence
        .iter()
        .find(|e| e.measure == "backward factor per layer")
        .unwrap();
    assert!(back.value < 0.35, "{back:?}");
}

#[test]
fn xavier_relu_vanishing_verdict_moves_with_the_depth() {
    assert_eq!(vanishing_relu(&[5], 64, 0).verdict, Verdict::Supported);
    let deep = vanishing_relu(&[30], 64, 0);
    assert_eq!(deep.verdict, Verdict::Mixed, "{deep:#?}");
    // He passes, Xavier fails at depth 30: (1/√2)^29 ≈ 4e-5.
    assert!(deep.checks[0].passed && !deep.checks[1].passed);
}

#[test]
fn scaling_verdict_moves_with_the_width_ratio() {
    assert_eq!(scaling_logic(&[(64, 64)], 0).verdict, Verdict::Supported);
    let wide_in = scaling_logic(&[(256, 64)], 0);
    assert_eq!(wide_in.verdict, Verdict::NotSupported, "{wide_in:#?}");
    let gain = |r: &claims::ClaimReport, m: &str| {
        r.evidence
            .iter()
            .find(|e| e.condition.starts_with("xavier") && e.measure == m)
            .unwrap()
            .value
    };
    // 2·fan_in/(fan_in + fan_out) = 1.6 forward, 0.4 backward.
    assert!((gain(&wide_in, "forward variance gain") - 1.6).abs() < 0.15);
    assert!((gain(&wide_in, "backward variance gain") - 0.4).abs() < 0.05);
}

#[test]
fn random_bias_breaks_the_clones_and_the_verdict() {
    let plain = claims::zeros_make_clones(None, 1);
    assert_eq!(plain.verdict, Verdict::Supported, "{plain:#?}");
    let biased = claims::zeros_make_clones(Some("uniform"), 1);
    assert_ne!(biased.verdict, Verdict::Supported, "{biased:#?}");
}

#[test]
fn distinct_units_counts_identical_rows_once() {
    let mut layer = initlab::nn::Dense::<f64>::zeros(3, 4);
    assert_eq!(distinct_units(&layer), 1);
    layer.weight[[2, 1]] = 0.5;
    assert_eq!(distinct_units(&layer), 2);
    layer.bias[3] = 1.0;
    assert_eq!(distinct_units(&layer), 3);
}

#[test]
fn all_claims_run_and_the_cli_writes_the_evidence() {
    let reports = claims::run_all(&ClaimsOptions {
        width: 64,
        depth: 6,
        ..ClaimsOptions::default()
    });
    assert_eq!(reports.len(), claims::CLAIMS.len());
    assert_eq!(reports.len(), 11);
    for r in &reports {
        assert!(!r.checks.is_empty() && !r.evidence.is_empty(), "{}", r.id);
        // NaN only where a run diverged: a worst seed's final loss.
        assert!(
            r.evidence
                .iter()
                .all(|e| !e.value.is_nan() || e.measure == "final train loss (worst seed)"),
            "{}",
            r.id
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("claims.csv");
    let out = Command::cargo_bin("initlab")
        .unwrap()
        .args(["claims", "--width", "64", "--depth", "6", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    crate::assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("SUPPORTED") && text.contains("claims:"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    let written = std::fs::read_to_string(&csv).unwrap();
    assert!(written.starts_with("claim,condition,measure,value,verdict\n"));
    assert!(written.lines().count() > 50);
    let bad = Command::cargo_bin("initlab")
        .unwrap()
        .args(["claims", "--depth", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_diverged_seed_is_the_worst_seed() {
    assert!(worst_loss([0.1, f64::NAN, 0.3]).is_nan());
    assert!(worst_loss([f64::NAN, 0.3]).is_nan());
    assert_eq!(worst_loss([0.1, 0.3]), 0.3);
    // In the training claim, one of huge's ReLU seeds diverges: its worst final loss is
    // that run's (NaN), not the other seed's.
    let report = claims::training_faster(&["relu"], 2);
    let worst = report
        .evidence
        .iter()
        .find(|e| {
            e.condition.starts_with("huge, relu") && e.measure == "final train loss (worst seed)"
        })
        .unwrap();
    assert!(worst.value.is_nan(), "{worst:?}");
}

/// The cited theory of a report's check whose condition starts with `condition`.
fn cited(r: &claims::ClaimReport, condition: &str) -> claims::Cited {
    r.checks
        .iter()
        .find(|c| c.condition.starts_with(condition))
        .and_then(|c| c.theory.clone())
        .unwrap_or_else(|| panic!("no theory cited for {condition}: {r:#?}"))
}

#[test]
fn claims_cite_the_mean_field_theory_beside_the_measurement() {
    use initlab::theory::Phase;
    let van = vanishing_relu(&[10], 128, 0);
    let he = cited(&van, "he-normal, relu");
    let xa = cited(&van, "xavier-normal, relu");
    // ReLU: χ₁ = σ_w²/2 — He 2/2 = 1 (critical), Xavier on a square layer 1/2 (ordered).
    assert!((he.chi1 - 1.0).abs() < 1e-9, "{he:?}");
    assert!((xa.chi1 - 0.5).abs() < 1e-9, "{xa:?}");
    assert_eq!((he.phase, xa.phase), (Phase::Critical, Phase::Ordered));
    // The predicted factor per layer is √χ₁ both ways, and the measurement (width 128,
    // 256 rows) agrees within 0.03 per layer.
    for t in [&he, &xa] {
        let f = t.forward_per_layer.unwrap();
        let b = t.backward_per_layer.unwrap();
        assert!((f - t.chi1.sqrt()).abs() < 1e-9 && (b - t.chi1.sqrt()).abs() < 1e-9);
        assert!((t.measured_forward - f).abs() < 0.03, "{t:?}");
        assert!((t.measured_backward - b).abs() < 0.03, "{t:?}");
    }
    // He on tanh: σ_w² = 2 is chaotic (χ₁ ≈ 1.11); the gradient's predicted growth per
    // layer matches the measured ×1.04 within 0.03.
    let expl = claims::no_exploding(30, 128, 0);
    let tanh = cited(&expl, "he-normal, tanh");
    assert_eq!(tanh.phase, Phase::Chaotic);
    assert!((tanh.sigma_w2 - 2.0).abs() < 1e-12 && (tanh.chi1 - 1.106).abs() < 0.005);
    let b = tanh.backward_per_layer.unwrap();
    assert!(
        b > 1.0 && (tanh.measured_backward - b).abs() < 0.03,
        "{tanh:?}"
    );
    // Xavier with sigmoid: χ₁ ≤ σ_w²/16 (σ′ ≤ 1/4), so the gradient shrinks ≈ √χ₁ per layer.
    let xs = xavier_balanced(&[Activation::Sigmoid], 10, 128, 0);
    let sig = cited(&xs, "xavier-normal, sigmoid");
    assert!(
        sig.chi1 < 1.0 / 16.0 && sig.phase == Phase::Ordered,
        "{sig:?}"
    );
    assert!((sig.measured_backward - sig.backward_per_layer.unwrap()).abs() < 0.03);
    // The printed text carries σ_w², χ₁ and the phase, and the evidence the theory rows.
    let text = claims::format_reports(&[van.clone(), expl]);
    assert!(text.contains("χ₁ = 0.500, ordered"), "{text}");
    assert!(text.contains("χ₁ = 1.000, critical"), "{text}");
    assert!(text.contains("chaotic"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    let chi1 = van
        .evidence
        .iter()
        .find(|e| e.condition.starts_with("xavier-normal") && e.measure == "theory: chi1")
        .unwrap();
    assert!((chi1.value - 0.5).abs() < 1e-9);
    // No theory where none applies: zero weights.
    let zeros = claims::zeros_make_clones(None, 1);
    assert!(zeros.checks.iter().all(|c| c.theory.is_none()));
}

#[test]
fn batchnorm_claim_holds_and_its_rule_can_fail() {
    use initlab::claims::batchnorm::{batchnorm_start, start_matters_less};
    let report = batchnorm_start(&["tanh"], 2);
    assert_eq!(report.verdict, Verdict::Supported, "{report:#?}");
    // Without BatchNorm the tiny start stays at chance; with it, every start is close.
    let (plain, bn, holds) = start_matters_less(&[0.5, 0.8, 1.0], &[0.98, 0.99, 0.95]);
    assert!(holds && (plain - 0.5).abs() < 1e-12 && (bn - 0.04).abs() < 1e-12);
    // Numbers that contradict the claim: BatchNorm leaves the spread as it was.
    assert!(!start_matters_less(&[0.5, 0.8, 1.0], &[0.5, 0.9, 1.0]).2);
    // A small spread that is not half the plain one does not count either.
    assert!(!start_matters_less(&[0.95, 1.0], &[0.94, 1.0]).2);
}

#[test]
fn adam_claim_rescues_scale_not_symmetry_and_its_rules_can_fail() {
    use initlab::claims::adam::{adam_scale_symmetry, scale_matters_less, symmetry_still_matters};
    let report = adam_scale_symmetry(2);
    // Adam rescues the tiny start and leaves the zero start's clones; the huge (saturated
    // tanh) start stays behind Xavier under Adam too: mixed.
    assert_eq!(report.verdict, Verdict::Mixed, "{report:#?}");
    let passed = |c: &str| {
        report
            .checks
            .iter()
            .find(|x| x.condition.starts_with(c))
            .unwrap()
            .passed
    };
    assert!(
        passed("tiny") && passed("zeros") && !passed("huge"),
        "{report:#?}"
    );
    assert!(scale_matters_less(0.5, 0.1) && scale_matters_less(0.0, 0.01));
    assert!(!scale_matters_less(0.5, 0.4) && !scale_matters_less(0.1, 0.15));
    assert!(symmetry_still_matters(1, 1));
    assert!(!symmetry_still_matters(1, 16) && !symmetry_still_matters(4, 1));
}

#[test]
fn residual_claim_plain_he_grows_the_remedies_hold() {
    use initlab::claims::residual_depth::{Stream, grows, predicted_per_block, residual_depth};
    let report = residual_depth(&[8, 32], 64, 0);
    assert_eq!(report.verdict, Verdict::Supported, "{report:#?}");
    let factor = |c: &str| {
        report
            .evidence
            .iter()
            .find(|e| e.condition.starts_with(c) && e.measure == "std factor per block")
            .unwrap()
            .value
    };
    // Plain He: each block adds the branch's 2q to q, so ×√3 per block (mean field).
    // (width 64: within 0.15 of it.)
    let he = factor("he-normal, relu, 32");
    assert!((he - 3f64.sqrt()).abs() < 0.15, "{he}");
    assert!((factor("fixup, relu, 32") - 1.0).abs() < 1e-12);
    assert!((factor("rezero, relu, 32") - 1.0).abs() < 1e-12);
    assert!(factor("he-normal + pre-layernorm, relu, 32") < 1.1);
    assert!((predicted_per_block(Stream::Plain, 0.5, 10) - 3f64.sqrt()).abs() < 1e-9);
    assert_eq!(predicted_per_block(Stream::Identity, 0.5, 10), 1.0);
    // The rule fails on numbers that contradict it: a held signal is not growth.
    assert!(grows(1.73) && !grows(1.0) && !grows(1.2));
}
