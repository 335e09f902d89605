//! Percentile bands of a layer's values over training: TensorBoard's distribution view
//! (its percentiles are those of a normal distribution at 0, ±0.5σ, ±1σ, ±1.5σ and the
//! extremes) and Ioffe & Szegedy's Figure 1 (the 15th, 50th and 85th percentiles of a
//! sigmoid's input, which are ±1σ's 15.87 and 84.13 up to rounding).
//!
//! A percentile is numpy's default ("linear"): for sorted values x₀ ≤ … ≤ x_{n−1} and a
//! level p, h = (n − 1)·p and the value is x_⌊h⌋ + (h − ⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋). Found by
//! selection, not by sorting: two partial selections per level, O(n) each.
//!
//! No I/O; the probe calls it at logged epochs (`quantiles.csv`).

use serde::{Deserialize, Serialize};

use ndarray::ArrayView2;

use super::float::Float;
use super::histogram::Quantity;

/// The levels, as fractions: TensorBoard's distribution bands (the normal CDF at 0σ, ±0.5σ,
/// ±1σ, ±1.5σ, rounded to four digits) and the minimum and maximum.
pub const LEVELS: [f64; 9] = [
    0.0, 0.0668, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9332, 1.0,
];

/// One row of `quantiles.csv` after the run key: the percentiles of one layer's values at
/// one logged epoch, over the probe's rows and either all the layer's units or one of them.
/// Empty percentiles mean a value was NaN (the run diverged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerQuantiles {
    /// Epochs completed (0 = the untrained network).
    pub epoch: usize,
    /// 1-based layer index, as in `layers.csv` (the last is the output layer).
    pub layer: usize,
    /// `pre_activation` (the input of the layer's activation) or `activation` (its output).
    pub quantity: Quantity,
    /// The unit (1-based) whose values these are, or empty for all the layer's units.
    pub unit: Option<usize>,
    /// The minimum.
    #[serde(rename = "p0")]
    pub p0: Option<f64>,
    /// The 6.68th percentile (−1.5σ of a normal).
    #[serde(rename = "p6.68")]
    pub p6_68: Option<f64>,
    /// The 15.87th percentile (−1σ).
    #[serde(rename = "p15.87")]
    pub p15_87: Option<f64>,
    /// The 30.85th percentile (−0.5σ).
    #[serde(rename = "p30.85")]
    pub p30_85: Option<f64>,
    /// The median.
    #[serde(rename = "p50")]
    pub p50: Option<f64>,
    /// The 69.15th percentile (+0.5σ).
    #[serde(rename = "p69.15")]
    pub p69_15: Option<f64>,
    /// The 84.13th percentile (+1σ).
    #[serde(rename = "p84.13")]
    pub p84_13: Option<f64>,
    /// The 93.32th percentile (+1.5σ).
    #[serde(rename = "p93.32")]
    pub p93_32: Option<f64>,
    /// The maximum.
    #[serde(rename = "p100")]
    pub p100: Option<f64>,
}

impl LayerQuantiles {
    /// A row from the percentiles at [`LEVELS`] (`None`: a value was NaN).
    pub fn new(
        epoch: usize,
        layer: usize,
        quantity: Quantity,
        unit: Option<usize>,
        q: Option<[f64; 9]>,
    ) -> Self {
        let at = |i: usize| q.map(|q| q[i]);
        LayerQuantiles {
            epoch,
            layer,
            quantity,
            unit,
            p0: at(0),
            p6_68: at(1),
            p15_87: at(2),
            p30_85: at(3),
            p50: at(4),
            p69_15: at(5),
            p84_13: at(6),
            p93_32: at(7),
            p100: at(8),
        }
    }

    /// The percentiles in the order of [`LEVELS`].
    pub fn values(&self) -> [Option<f64>; 9] {
        [
            self.p0,
            self.p6_68,
            self.p15_87,
            self.p30_85,
            self.p50,
            self.p69_15,
            self.p84_13,
            self.p93_32,
            self.p100,
        ]
    }
}

/// The percentiles of `values` at [`LEVELS`] (reordering `values`); `None` if there are no
/// values or one is NaN.
pub fn percentiles(values: &mut [f64]) -> Option<[f64; 9]> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let n = values.len();
    let mut out = [0.0; 9];
    // The levels ascend, so each selection only needs the part right of the last one.
    let mut done = 0;
    for (slot, &p) in out.iter_mut().zip(&LEVELS) {
        let h = (n - 1) as f64 * p;
        let k = (h.floor() as usize).min(n - 1);
        let tail = &mut values[done..];
        let (_, &mut lo, right) = tail.select_nth_unstable_by(k - done, f64::total_cmp);
        // x_{k+1} is the smallest value right of x_k.
        let hi = right.iter().copied().min_by(f64::total_cmp).unwrap_or(lo);
        let frac = h - k as f64;
        *slot = if frac == 0.0 {
            lo
        } else {
            lo + frac * (hi - lo)
        };
        done = k;
    }
    Some(out)
}

/// The two rows of one layer's `quantity` at `epoch` from its values `(rows, units)`: over
/// every unit, then over unit 1 alone (one unit's input over training is what Ioffe &
/// Szegedy draw). `scratch` holds the values while they are selected (grown once, kept).
pub fn layer_rows<T: Float>(
    values: ArrayView2<T>,
    epoch: usize,
    layer: usize,
    quantity: Quantity,
    scratch: &mut Vec<f64>,
) -> [LayerQuantiles; 2] {
    scratch.clear();
    scratch.extend(values.iter().map(|v| v.f64()));
    let all = LayerQuantiles::new(epoch, layer, quantity, None, percentiles(scratch));
    scratch.clear();
    scratch.extend(values.column(0).iter().map(|v| v.f64()));
    let one = LayerQuantiles::new(epoch, layer, quantity, Some(1), percentiles(scratch));
    [all, one]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy's "linear" percentile by sorting: the definition, written plainly.
    fn by_sorting(values: &[f64], p: f64) -> f64 {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let h = (v.len() - 1) as f64 * p;
        let k = h.floor() as usize;
        // At a whole h the percentile is x_h itself (no 0 · ∞ from a neighbour).
        if k + 1 >= v.len() || h == k as f64 {
            return v[k];
        }
        v[k] + (h - k as f64) * (v[k + 1] - v[k])
    }

    #[test]
    fn selection_equals_sorting() {
        // Sizes 1..60 with ties, signs and infinities, in a scrambled order.
        for n in 1..60usize {
            let values: Vec<f64> = (0..n)
                .map(|i| match (i * 37 + 11) % 23 {
                    0 => f64::INFINITY,
                    1 => f64::NEG_INFINITY,
                    2 | 3 => 0.5,
                    r => (r as f64 - 11.0) * 0.37 + (i as f64 * 1.7).sin(),
                })
                .collect();
            let mut scratch = values.clone();
            let got = percentiles(&mut scratch).unwrap();
            for (q, &p) in got.iter().zip(&LEVELS) {
                let want = by_sorting(&values, p);
                assert!(
                    q == &want
                        || (q.is_nan() && want.is_nan())
                        || (q - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "n = {n}, p = {p}: {q} vs {want}"
                );
            }
        }
    }

    #[test]
    fn known_values_and_nan() {
        // numpy.percentile(range(11), [0, 6.68, 15.87, 50, 100]) = 0, 0.668, 1.587, 5, 10.
        let mut v: Vec<f64> = (0..11).rev().map(f64::from).collect();
        let q = percentiles(&mut v).unwrap();
        assert_eq!(q[0], 0.0);
        assert!((q[1] - 0.668).abs() < 1e-12);
        assert!((q[2] - 1.587).abs() < 1e-12);
        assert_eq!(q[4], 5.0);
        assert_eq!(q[8], 10.0);
        assert_eq!(percentiles(&mut [1.0, f64::NAN]), None);
        assert_eq!(percentiles(&mut []), None);
        assert_eq!(percentiles(&mut [3.0]), Some([3.0; 9]));
    }
}
