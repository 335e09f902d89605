//! Histograms of what a network holds: bins fixed in advance, so that histograms of
//! different starts, seeds and epochs can be laid over each other bin for bin.
//!
//! Two layouts ([`Bins`]):
//!
//! - **Linear** over a bounded activation's range: 40 equal bins over [−1, 1] for tanh and
//!   softsign outputs, over [0, 1] for sigmoid outputs (Glorot & Bengio 2010, Figure 6).
//! - **Signed log** for everything unbounded (pre-activations, ReLU outputs, logits,
//!   back-propagated gradients, weights, weight gradients): 4 bins per decade of |v| from
//!   10⁻⁹ to 10³, on both sides of 0. One fixed range fits every start: a zero, a tiny
//!   (10⁻³), an appropriate and a huge (×10) start, and gradients that shrink by orders of
//!   magnitude from layer to layer, all land in bins of the same layout, where a linear
//!   range fitted to one of them would squeeze the others into a single bin. The edges are
//!   10^(k/4) rounded to three significant digits (1, 1.78, 3.16, 5.62, 10, …) so that they
//!   read as written in `histograms.csv`; values are sorted by those written edges.
//!
//! Every histogram is whole: besides the regular bins it has an underflow and an overflow
//! bin, a bin for exact zeros (the dead-ReLU spike, the zero start) and a bin for NaN, so
//! its counts add up to the number of values given.
//!
//! Bins, in order: underflow (−∞, e₀); the regular bins [eᵢ₋₁, eᵢ) below 0; the zero bin
//! [0, 0]; the regular bins above 0 (the first of them excludes 0 itself); overflow
//! [e_M, ∞); NaN. A linear layout closes its top bin, [e_M₋₁, e_M], because tanh and sigmoid
//! reach their bounds exactly in floating point; its overflow is then (e_M, ∞).

use serde::{Deserialize, Serialize};

use super::activation::Activation;

/// Bins per decade of the signed-log layout.
pub const LOG_BINS_PER_DECADE: i32 = 4;
/// Smallest magnitude edge of the signed-log layout, as a power of 10.
pub const LOG_MIN_EXPONENT: i32 = -9;
/// Largest magnitude edge of the signed-log layout, as a power of 10.
pub const LOG_MAX_EXPONENT: i32 = 3;
/// Bins of a linear layout.
pub const LINEAR_BINS: usize = 40;

/// What a histogram of one layer describes (the `quantity` column of `histograms.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// z = a_{l−1}·Wᵀ + b, (rows, out_l) values.
    PreActivation,
    /// a = f(z) (the logits for the output layer), (rows, out_l) values.
    Activation,
    /// dL/da per row, back-propagated (Glorot & Bengio's Figure 7), (rows, out_l) values.
    Gradient,
    /// The layer's weights W, (out_l, in_l) values.
    Weight,
    /// dL/dW of the mean loss over the probe rows, (out_l, in_l) values.
    WeightGradient,
}

impl Quantity {
    /// Every quantity, in the order they are written.
    pub const ALL: [Quantity; 5] = [
        Quantity::PreActivation,
        Quantity::Activation,
        Quantity::Gradient,
        Quantity::Weight,
        Quantity::WeightGradient,
    ];

    /// The name in `histograms.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::PreActivation => "pre_activation",
            Quantity::Activation => "activation",
            Quantity::Gradient => "gradient",
            Quantity::Weight => "weight",
            Quantity::WeightGradient => "weight_gradient",
        }
    }

    /// The bins of this quantity for a layer whose output goes through `activation`
    /// (`None` for the output layer, whose "activation" is the logits): linear over the
    /// activation's range for the outputs of a bounded activation, signed log otherwise.
    pub fn bins(self, activation: Option<Activation>) -> Bins {
        match (self, activation.and_then(|a| a.bounds())) {
            (Quantity::Activation, Some((low, high))) => Bins::linear(low, high, LINEAR_BINS),
            _ => Bins::signed_log(),
        }
    }
}

/// One non-empty bin of one layer's histogram at one epoch: the columns of
/// `histograms.csv` after the run key. Empty bins are not written: a bin missing from the
/// file has count 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramBin {
    /// Epochs completed (0 = the untrained network).
    pub epoch: usize,
    /// 1-based layer index; the last layer is the output layer.
    pub layer: usize,
    /// What the histogram describes.
    pub quantity: Quantity,
    /// Lower end of the bin (−∞ for the underflow bin, NaN for the NaN bin).
    pub bin_low: f64,
    /// Upper end of the bin (∞ for the overflow bin; 0 for the zero bin, whose low end is
    /// also 0).
    pub bin_high: f64,
    /// Values in the bin.
    pub count: u64,
}

/// A fixed set of bins (see the module documentation for the layout).
#[derive(Clone, Debug, PartialEq)]
pub struct Bins {
    /// The finite edges e₀ < … < e_M; 0 is one of them.
    edges: Vec<f64>,
    /// Index of 0 in `edges`.
    zero: usize,
    /// Whether the top regular bin includes e_M (linear layouts).
    closed_top: bool,
}

impl Bins {
    /// `bins` equal bins over [`low`, `high`] (which must contain 0 on a bin edge, as
    /// [−1, 1] and [0, 1] with an even count do), the top one closed.
    ///
    /// Each edge is low + i·(high − low)/bins computed as one division, so that it is the
    /// float nearest the decimal value and is written as such (−0.9, not −0.8999…).
    pub fn linear(low: f64, high: f64, bins: usize) -> Bins {
        assert!(low < high && bins > 0, "a linear range [{low}, {high}]");
        let edges: Vec<f64> = (0..=bins)
            .map(|i| (low * (bins - i) as f64 + high * i as f64) / bins as f64)
            .collect();
        let zero = edges
            .iter()
            .position(|&e| e == 0.0)
            .expect("0 is an edge of a linear histogram range");
        Bins {
            edges,
            zero,
            closed_top: true,
        }
    }

    /// The signed-log layout: edges ±10^(k/4) rounded to 3 significant digits for
    /// [`LOG_MIN_EXPONENT`] ≤ k/4 ≤ [`LOG_MAX_EXPONENT`], and 0.
    pub fn signed_log() -> Bins {
        let steps = (LOG_MAX_EXPONENT - LOG_MIN_EXPONENT) * LOG_BINS_PER_DECADE;
        let magnitudes: Vec<f64> = (0..=steps)
            .map(|k| {
                let exact = 10f64.powf(
                    f64::from(LOG_MIN_EXPONENT) + f64::from(k) / f64::from(LOG_BINS_PER_DECADE),
                );
                // Three significant digits, through their decimal text: the edge is then
                // exactly the float that "1.78e-5" parses to.
                format!("{exact:.2e}").parse().expect("a formatted float")
            })
            .collect();
        let mut edges: Vec<f64> = magnitudes.iter().rev().map(|m| -m).collect();
        let zero = edges.len();
        edges.push(0.0);
        edges.extend(&magnitudes);
        Bins {
            edges,
            zero,
            closed_top: false,
        }
    }

    /// Number of bins, the underflow, overflow, zero and NaN bins included.
    pub fn len(&self) -> usize {
        self.edges.len() + 3
    }

    /// Never empty (there is always at least an underflow and an overflow bin).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bin index of `v` (0 = underflow, `len() − 1` = NaN).
    pub fn index(&self, v: f64) -> usize {
        let m = self.edges.len() - 1;
        if v.is_nan() {
            return self.len() - 1;
        }
        if v == 0.0 {
            return self.zero + 1;
        }
        // p = how many edges are ≤ v; regular bin p (1 ≤ p ≤ M) is [e_{p−1}, e_p).
        let p = self.edges.partition_point(|&e| e <= v);
        let regular = if p == 0 {
            return 0;
        } else if p == m + 1 {
            if self.closed_top && v == self.edges[m] {
                m
            } else {
                return m + 2;
            }
        } else {
            p
        };
        // Bins above 0 come after the zero bin.
        if regular <= self.zero {
            regular
        } else {
            regular + 1
        }
    }

    /// The range `(low, high)` of bin `i` as written in `histograms.csv`: ±∞ for the
    /// underflow and overflow bins, (0, 0) for the zero bin, (NaN, NaN) for the NaN bin.
    pub fn range(&self, i: usize) -> (f64, f64) {
        let e = &self.edges;
        let m = e.len() - 1;
        match i {
            0 => (f64::NEG_INFINITY, e[0]),
            _ if i == self.zero + 1 => (0.0, 0.0),
            _ if i <= self.zero => (e[i - 1], e[i]),
            _ if i <= m + 1 => (e[i - 2], e[i - 1]),
            _ if i == m + 2 => (e[m], f64::INFINITY),
            _ => (f64::NAN, f64::NAN),
        }
    }

    /// Counts `values` into a new histogram over these bins.
    pub fn count(&self, values: impl IntoIterator<Item = f64>) -> Vec<u64> {
        let mut counts = vec![0; self.len()];
        for v in values {
            counts[self.index(v)] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each bin's index is where its own low edge goes, and values at the edges land on
    /// the side the layout says.
    #[test]
    fn linear_bins_by_hand() {
        let b = Bins::linear(-1.0, 1.0, 4); // edges −1, −0.5, 0, 0.5, 1
        assert_eq!(b.len(), 8);
        assert_eq!(b.index(-1.5), 0);
        assert_eq!(b.index(-1.0), 1);
        assert_eq!(b.index(-0.75), 1);
        assert_eq!(b.index(-0.5), 2);
        assert_eq!(b.index(-1e-30), 2);
        assert_eq!(b.index(0.0), 3);
        assert_eq!(b.index(-0.0), 3);
        assert_eq!(b.index(1e-30), 4);
        assert_eq!(b.index(0.5), 5);
        assert_eq!(b.index(1.0), 5); // top bin closed
        assert_eq!(b.index(1.0 + 1e-12), 6);
        assert_eq!(b.index(f64::NAN), 7);
        let ranges: Vec<_> = (0..7).map(|i| b.range(i)).collect();
        assert_eq!(
            ranges,
            vec![
                (f64::NEG_INFINITY, -1.0),
                (-1.0, -0.5),
                (-0.5, 0.0),
                (0.0, 0.0),
                (0.0, 0.5),
                (0.5, 1.0),
                (1.0, f64::INFINITY)
            ]
        );
        assert!(b.range(7).0.is_nan());
    }

    #[test]
    fn linear_edges_are_the_decimal_values() {
        let b = Bins::linear(-1.0, 1.0, LINEAR_BINS);
        assert_eq!(b.range(3), (-0.9, -0.85));
        let s = Bins::linear(0.0, 1.0, LINEAR_BINS);
        // Sigmoid: no bin below 0 but the underflow; zero first, then (0, 0.025).
        assert_eq!(s.index(0.0), 1);
        assert_eq!(s.range(2), (0.0, 0.025));
        assert_eq!(s.index(0.01), 2);
        assert_eq!(s.index(1.0), LINEAR_BINS + 1);
    }

    #[test]
    fn signed_log_edges() {
        let b = Bins::signed_log();
        let per_side = ((LOG_MAX_EXPONENT - LOG_MIN_EXPONENT) * LOG_BINS_PER_DECADE) as usize;
        // underflow, per_side bins, [−1e-9, 0), zero, (0, 1e-9), per_side bins, overflow, NaN
        assert_eq!(b.len(), 2 * per_side + 6);
        let i = b.index(2.0);
        assert_eq!(b.range(i), (1.78, 3.16));
        assert_eq!(b.range(b.index(-2.0)), (-3.16, -1.78));
        assert_eq!(b.range(b.index(1e-12)), (0.0, 1e-9));
        assert_eq!(b.range(b.index(-1e-12)), (-1e-9, 0.0));
        assert_eq!(b.range(b.index(5e3)), (1000.0, f64::INFINITY));
        assert_eq!(
            b.range(b.index(f64::NEG_INFINITY)),
            (f64::NEG_INFINITY, -1000.0)
        );
        assert_eq!(b.range(b.index(0.1)), (0.1, 0.178));
        assert_eq!(b.range(b.index(0.0999)), (0.0562, 0.1));
    }

    /// Every value lands in the bin whose range holds it, on both layouts, and the counts
    /// add up to the number of values.
    #[test]
    fn every_value_in_its_own_bin() {
        let values: Vec<f64> = (-4000..=4000)
            .map(|i| f64::from(i) * 1e-3)
            .chain([1e-20, -1e-20, 1e9, -1e9, f64::INFINITY, f64::NAN])
            .collect();
        for b in [Bins::signed_log(), Bins::linear(-1.0, 1.0, LINEAR_BINS)] {
            for &v in &values {
                let (lo, hi) = b.range(b.index(v));
                if v.is_nan() {
                    assert!(lo.is_nan() && hi.is_nan());
                } else if v == 0.0 {
                    assert_eq!((lo, hi), (0.0, 0.0));
                } else {
                    // The top bin of a linear layout is closed; the overflow bin holds ∞.
                    let closed = b.closed_top || hi.is_infinite();
                    assert!(
                        lo <= v && (v < hi || (v == hi && closed)),
                        "{v} in [{lo}, {hi})"
                    );
                }
            }
            let counts = b.count(values.iter().copied());
            assert_eq!(counts.iter().sum::<u64>(), values.len() as u64);
        }
    }

    #[test]
    fn bounded_activations_get_linear_bins() {
        let tanh = Quantity::Activation.bins(Some(Activation::Tanh));
        assert_eq!(tanh, Bins::linear(-1.0, 1.0, LINEAR_BINS));
        assert_eq!(
            Quantity::Activation.bins(Some(Activation::Relu)),
            Bins::signed_log()
        );
        assert_eq!(Quantity::Activation.bins(None), Bins::signed_log());
        assert_eq!(
            Quantity::Gradient.bins(Some(Activation::Tanh)),
            Bins::signed_log()
        );
    }
}
