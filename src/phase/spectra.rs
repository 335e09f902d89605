//! Jacobian spectra against depth (Pennington, Schoenholz & Ganguli 2017): for each start
//! and depth, the singular values of ∂a^L/∂x at probe inputs — their summary and a
//! histogram of log₁₀ s.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use super::heatmap::HeatMap;
use crate::nn::{Activation, Init, Loss, Mlp};
use crate::theory::jacobian::{hidden_jacobian, log_histogram, singular_values, summarize};

/// Probe inputs per (start, depth).
pub const PROBES: usize = 4;
/// The histogram covers log₁₀ s in [HIST_LO, HIST_HI].
pub const HIST_LO: f64 = -3.0;
/// Upper end of the histogram.
pub const HIST_HI: f64 = 2.0;
/// Histogram bins.
pub const BINS: usize = 50;

/// One (start, depth) of `spectra.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryRow {
    /// The start's label.
    pub init: String,
    /// The activation.
    pub activation: String,
    /// Hidden layers.
    pub depth: usize,
    /// Mean of s².
    pub mean_s2: f64,
    /// Variance of s².
    pub var_s2: f64,
    /// Largest s.
    pub s_max: f64,
    /// Smallest s.
    pub s_min: f64,
    /// s_max / s_min, empty when s_min = 0.
    pub condition: Option<f64>,
}

/// One bin of `spectra-histogram.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BinRow {
    /// The start's label.
    pub init: String,
    /// Hidden layers.
    pub depth: usize,
    /// Lower edge of the bin in log₁₀ s.
    pub log10_s_low: f64,
    /// Singular values in the bin.
    pub count: usize,
}

/// The spectra of `inits` at `depths` (width × width hidden layers, seed `seed`).
pub fn spectra(
    inits: &[Init],
    activation: Activation,
    depths: &[usize],
    width: usize,
    seed: u64,
) -> (Vec<SummaryRow>, Vec<BinRow>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::MAX);
    let probes: Vec<ndarray::Array1<f64>> = (0..PROBES)
        .map(|_| ndarray::Array1::from_shape_simple_fn(width, || StandardNormal.sample(&mut rng)))
        .collect();
    let (mut rows, mut bins) = (Vec::new(), Vec::new());
    for init in inits {
        for &depth in depths {
            let sizes = vec![width; depth + 2];
            let mut mlp = Mlp::<f64>::new(&sizes, &vec![activation; depth], Loss::Mse);
            mlp.initialize(init, None, seed);
            let s: Vec<f64> = probes
                .iter()
                .flat_map(|x| singular_values(&hidden_jacobian(&mlp, x.view())))
                .collect();
            let m = summarize(&s);
            rows.push(SummaryRow {
                init: init.label(),
                activation: activation.name(),
                depth,
                mean_s2: m.mean_s2,
                var_s2: m.var_s2,
                s_max: m.s_max,
                s_min: m.s_min,
                condition: m.condition().is_finite().then(|| m.condition()),
            });
            let width_bin = (HIST_HI - HIST_LO) / BINS as f64;
            for (b, count) in log_histogram(&s, HIST_LO, HIST_HI, BINS)
                .into_iter()
                .enumerate()
            {
                bins.push(BinRow {
                    init: init.label(),
                    depth,
                    log10_s_low: HIST_LO + b as f64 * width_bin,
                    count,
                });
            }
        }
    }
    (rows, bins)
}

/// One heat map per start: x = log₁₀ s, y = depth index, colour = fraction of the
/// singular values in the bin.
pub fn svg(init: &str, depths: &[usize], bins: &[BinRow]) -> String {
    let width_bin = (HIST_HI - HIST_LO) / BINS as f64;
    let xs: Vec<f64> = (0..BINS)
        .map(|b| HIST_LO + (b as f64 + 0.5) * width_bin)
        .collect();
    let ys: Vec<f64> = (0..depths.len()).map(|i| i as f64).collect();
    let values: Vec<Vec<Option<f64>>> = depths
        .iter()
        .map(|&d| {
            let of: Vec<&BinRow> = bins
                .iter()
                .filter(|b| b.init == init && b.depth == d)
                .collect();
            let total: usize = of.iter().map(|b| b.count).sum::<usize>().max(1);
            of.iter()
                .map(|b| Some(b.count as f64 / total as f64))
                .collect()
        })
        .collect();
    let labels = depths
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let title = format!("{init}: histogram of log₁₀ s (rows: depth {labels})");
    HeatMap {
        title: &title,
        x_label: "log₁₀ s",
        y_label: "depth index",
        xs: &xs,
        ys: &ys,
        values: &values,
        range: (0.0, 0.3),
        curves: vec![],
        points: vec![],
    }
    .svg()
}
