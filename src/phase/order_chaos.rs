//! The order–chaos phase diagram: over a (σ_w², σ_b²) grid for one activation, the depth
//! scale ξ_c as a heat map, the critical line χ₁ = 1 drawn over it, and the named starts
//! placed on it (Poole et al. 2016, Fig. 2; Schoenholz et al. 2017, Fig. 1).

use rayon::prelude::*;
use serde::Serialize;

use super::heatmap::HeatMap;
use crate::nn::{Activation, Fan, Init};
use crate::theory::{Length, MeanField, start_scales};

/// One cell of `order-chaos.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellRow {
    /// The activation.
    pub activation: String,
    /// σ_w².
    pub sigma_w2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// q*, empty when the length map diverges.
    pub q_star: Option<f64>,
    /// Whether q diverges.
    pub diverges: bool,
    /// χ₁.
    pub chi1: f64,
    /// c*.
    pub c_star: f64,
    /// χ_c at c*.
    pub chi_c: f64,
    /// ξ_c, empty when infinite (critical).
    pub xi_c: Option<f64>,
    /// ordered, critical or chaotic.
    pub phase: String,
}

/// One named start of `order-chaos-starts.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StartRow {
    /// The start's label.
    pub init: String,
    /// The activation.
    pub activation: String,
    /// σ_w² on a square layer of [`START_WIDTH`] units.
    pub sigma_w2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// χ₁ at q*.
    pub chi1: f64,
    /// The phase.
    pub phase: String,
    /// ξ_c, empty when infinite.
    pub xi_c: Option<f64>,
}

/// The layer width at which named starts are placed (Xavier depends on the fans).
pub const START_WIDTH: usize = 64;

/// The named starts placed on the diagram.
pub const NAMED_STARTS: [&str; 8] = [
    "he-normal",
    "xavier-normal",
    "lecun-normal",
    "xavier-normal:gain=auto",
    "orthogonal:gain=auto",
    "pytorch-default",
    "tiny",
    "huge",
];

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Every cell, σ_b² rows outer, σ_w² inner (in parallel; the order is fixed).
pub fn cells(activation: Activation, sigma_w2: &[f64], sigma_b2: &[f64]) -> Vec<CellRow> {
    let pairs: Vec<(f64, f64)> = sigma_b2
        .iter()
        .flat_map(|&b| sigma_w2.iter().map(move |&w| (w, b)))
        .collect();
    pairs
        .par_iter()
        .map(|&(w, b)| {
            let a = MeanField {
                activation,
                sigma_w2: w,
                sigma_b2: b,
            }
            .analyze();
            CellRow {
                activation: activation.name(),
                sigma_w2: w,
                sigma_b2: b,
                q_star: a.q_star.value(),
                diverges: a.q_star == Length::Diverges,
                chi1: a.chi1,
                c_star: a.c_star,
                chi_c: a.chi_c,
                xi_c: finite(a.xi_c),
                phase: a.phase.name().into(),
            }
        })
        .collect()
}

/// The critical σ_w² (χ₁ = 1) for each σ_b², by bisection within [lo, hi]; `None` where χ₁
/// does not cross 1 there.
pub fn critical_line(
    activation: Activation,
    sigma_b2: &[f64],
    lo: f64,
    hi: f64,
) -> Vec<(f64, f64)> {
    let chi1 = |w: f64, b: f64| {
        let m = MeanField {
            activation,
            sigma_w2: w,
            sigma_b2: b,
        };
        m.chi1(m.fixed_point(1.0).value().unwrap_or(1e6))
    };
    sigma_b2
        .par_iter()
        .filter_map(|&b| {
            let (mut a, mut z) = (lo, hi);
            if (chi1(a, b) - 1.0) * (chi1(z, b) - 1.0) > 0.0 {
                return None;
            }
            for _ in 0..40 {
                let mid = 0.5 * (a + z);
                if (chi1(mid, b) - 1.0) * (chi1(a, b) - 1.0) <= 0.0 {
                    z = mid;
                } else {
                    a = mid;
                }
            }
            Some((0.5 * (a + z), b))
        })
        .collect()
}

/// The named starts with their scales and phase for `activation`.
pub fn starts(activation: Activation) -> Vec<StartRow> {
    let fan = Fan {
        fan_in: START_WIDTH,
        fan_out: START_WIDTH,
    };
    NAMED_STARTS
        .iter()
        .map(|name| {
            let init: Init = name.parse().expect("named starts parse");
            let s = start_scales(&init, fan, activation).expect("named starts have scales");
            let a = MeanField {
                activation,
                sigma_w2: s.sigma_w2,
                sigma_b2: s.sigma_b2,
            }
            .analyze();
            StartRow {
                init: init.label(),
                activation: activation.name(),
                sigma_w2: s.sigma_w2,
                sigma_b2: s.sigma_b2,
                chi1: a.chi1,
                phase: a.phase.name().into(),
                xi_c: finite(a.xi_c),
            }
        })
        .collect()
}

/// ξ_c values above this are drawn in the brightest colour.
pub const XI_CAP: f64 = 30.0;

/// The heat map of ξ_c with the critical line and the starts.
pub fn svg(
    activation: Activation,
    sigma_w2: &[f64],
    sigma_b2: &[f64],
    cells: &[CellRow],
    line: &[(f64, f64)],
    starts: &[StartRow],
) -> String {
    let values: Vec<Vec<Option<f64>>> = cells
        .chunks(sigma_w2.len())
        .map(|row| {
            row.iter()
                .map(|c| Some(c.xi_c.unwrap_or(XI_CAP).min(XI_CAP)))
                .collect()
        })
        .collect();
    let title = format!(
        "{}: depth scale ξ_c (capped at {XI_CAP}) and χ₁ = 1",
        activation.name()
    );
    HeatMap {
        title: &title,
        x_label: "σ_w²",
        y_label: "σ_b²",
        xs: sigma_w2,
        ys: sigma_b2,
        values: &values,
        range: (0.0, XI_CAP),
        curves: vec![("χ₁ = 1".into(), line.to_vec())],
        points: starts
            .iter()
            .map(|s| (s.init.clone(), s.sigma_w2, s.sigma_b2))
            .collect(),
    }
    .svg()
}
