//! `histograms.csv` regrouped for drawing: one [`Hist`] per run × epoch × layer × quantity,
//! its bins placed on a shared [`HistAxis`].
//!
//! The file lists only non-empty bins. The bins of one quantity are fixed within an
//! experiment (see [`crate::nn::histogram`]), so the axis of a quantity is the union, in
//! value order, of the bins that occur for it anywhere in the experiment; separate axes are
//! kept for each activation and for the output layer, whose bins can differ (a bounded
//! activation's outputs have linear bins, the logits have signed-log ones).

use std::collections::HashMap;

use crate::experiment::record::HistogramRow;
use crate::nn::histogram::Quantity;

/// The bins one group of histograms is drawn over.
#[derive(Clone, Debug, PartialEq)]
pub struct HistAxis {
    /// What the histograms describe.
    pub quantity: Quantity,
    /// The hidden activation of the runs.
    pub activation: String,
    /// Whether this is the output layer's axis.
    pub output: bool,
    /// The bins `(low, high)` in value order (the NaN bin last).
    pub bins: Vec<(f64, f64)>,
}

/// One histogram: the non-empty bins of one run's layer at one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Hist {
    /// Init label.
    pub init: String,
    /// Activation name.
    pub activation: String,
    /// Seed.
    pub seed: u64,
    /// Epoch.
    pub epoch: usize,
    /// 1-based layer.
    pub layer: usize,
    /// Quantity.
    pub quantity: Quantity,
    /// Index into [`Histograms::axes`].
    pub axis: usize,
    /// `(bin index on the axis, count)`, in axis order.
    pub counts: Vec<(usize, u64)>,
}

impl Hist {
    /// The number of values the histogram describes.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, c)| c).sum()
    }
}

/// Every histogram of a results directory, on its axes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histograms {
    /// The axes.
    pub axes: Vec<HistAxis>,
    /// The histograms, in file order.
    pub hists: Vec<Hist>,
    /// The epochs with histograms, ascending.
    pub epochs: Vec<usize>,
    /// The output layer (the largest layer index).
    pub output_layer: usize,
}

/// Value order of bins: by low end, then high end (the zero bin [0, 0] before (0, e₁));
/// the NaN bin after everything.
fn bin_order(a: &(f64, f64), b: &(f64, f64)) -> std::cmp::Ordering {
    let key = |x: &(f64, f64)| (x.0.is_nan(), x.0, x.1);
    let (na, la, ha) = key(a);
    let (nb, lb, hb) = key(b);
    na.cmp(&nb).then(la.total_cmp(&lb)).then(ha.total_cmp(&hb))
}

impl Histograms {
    /// Regroups the rows of `histograms.csv`.
    pub fn from_rows(rows: &[HistogramRow]) -> Histograms {
        let output_layer = rows.iter().map(|r| r.row.layer).max().unwrap_or(0);
        // The axes: every bin seen per (quantity, activation, output layer or not).
        let mut axes: Vec<HistAxis> = Vec::new();
        let mut axis_of: HashMap<(Quantity, String, bool), usize> = HashMap::new();
        let axis_key = |r: &HistogramRow| {
            (
                r.row.quantity,
                r.run.activation.clone(),
                r.row.layer == output_layer,
            )
        };
        for r in rows {
            let key = axis_key(r);
            let a = *axis_of.entry(key.clone()).or_insert_with(|| {
                axes.push(HistAxis {
                    quantity: key.0,
                    activation: key.1.clone(),
                    output: key.2,
                    bins: Vec::new(),
                });
                axes.len() - 1
            });
            axes[a].bins.push((r.row.bin_low, r.row.bin_high));
        }
        for a in &mut axes {
            a.bins.sort_by(bin_order);
            a.bins.dedup_by(|x, y| bin_order(x, y).is_eq());
        }
        // The histograms: consecutive rows of one run × epoch × layer × quantity.
        type HistKey = (String, String, u64, usize, usize, Quantity);
        let mut index: HashMap<HistKey, usize> = HashMap::new();
        let mut hists: Vec<Hist> = Vec::new();
        for r in rows {
            let axis = axis_of[&axis_key(r)];
            let key = (
                r.run.init.clone(),
                r.run.activation.clone(),
                r.run.seed,
                r.row.epoch,
                r.row.layer,
                r.row.quantity,
            );
            let h = *index.entry(key).or_insert_with(|| {
                hists.push(Hist {
                    init: r.run.init.clone(),
                    activation: r.run.activation.clone(),
                    seed: r.run.seed,
                    epoch: r.row.epoch,
                    layer: r.row.layer,
                    quantity: r.row.quantity,
                    axis,
                    counts: Vec::new(),
                });
                hists.len() - 1
            });
            let bins = &axes[axis].bins;
            let bin = bins
                .binary_search_by(|b| bin_order(b, &(r.row.bin_low, r.row.bin_high)))
                .expect("every bin is on its axis");
            hists[h].counts.push((bin, r.row.count));
        }
        for h in &mut hists {
            h.counts.sort_unstable();
        }
        let mut epochs: Vec<usize> = hists.iter().map(|h| h.epoch).collect();
        epochs.sort_unstable();
        epochs.dedup();
        Histograms {
            axes,
            hists,
            epochs,
            output_layer,
        }
    }

    /// The histograms of one init × activation × quantity at `epoch`, summed over seeds,
    /// per layer (ascending), as fractions of their totals over the axis's bins.
    pub fn seed_sums(
        &self,
        init: &str,
        activation: &str,
        quantity: Quantity,
        epoch: usize,
    ) -> Vec<(usize, usize, Vec<f64>)> {
        let mut by_layer: std::collections::BTreeMap<usize, (usize, Vec<u64>)> = Default::default();
        for h in self.hists.iter().filter(|h| {
            h.init == init
                && h.activation == activation
                && h.quantity == quantity
                && h.epoch == epoch
        }) {
            let n = self.axes[h.axis].bins.len();
            let slot = by_layer.entry(h.layer).or_insert((h.axis, vec![0; n]));
            for &(b, c) in &h.counts {
                slot.1[b] += c;
            }
        }
        by_layer
            .into_iter()
            .map(|(layer, (axis, counts))| {
                let total: u64 = counts.iter().sum();
                let fractions = counts
                    .iter()
                    .map(|&c| c as f64 / total.max(1) as f64)
                    .collect();
                (layer, axis, fractions)
            })
            .collect()
    }
}

/// The share of a histogram's values in bins that lie within [`low`, `high`] (both finite):
/// exact for bins whose edges fall on `low` and `high`, as |a| < 0.1 does on the linear
/// tanh bins.
pub fn share_within(axis: &HistAxis, counts: &[(usize, u64)], low: f64, high: f64) -> f64 {
    let total: u64 = counts.iter().map(|(_, c)| c).sum();
    let inside: u64 = counts
        .iter()
        .filter(|(b, _)| {
            let (lo, hi) = axis.bins[*b];
            lo >= low && hi <= high
        })
        .map(|(_, c)| c)
        .sum();
    inside as f64 / total.max(1) as f64
}

/// The median of |v| from a histogram over signed bins, interpolated geometrically within
/// the bin where it falls (0 if at least half the values are exactly 0; the bin's finite
/// edge for an underflow or overflow bin). Resolution: one bin, 10^(1/4) on signed-log bins.
pub fn median_magnitude(axis: &HistAxis, counts: &[(usize, u64)]) -> f64 {
    // Fold the signs: (|low|, |high|) magnitudes, ascending.
    let mut folded: Vec<(f64, f64, u64)> = counts
        .iter()
        .filter(|(b, _)| !axis.bins[*b].0.is_nan())
        .map(|&(b, c)| {
            let (lo, hi) = axis.bins[b];
            let (a, z) = (lo.abs(), hi.abs());
            (a.min(z), a.max(z), c)
        })
        .collect();
    folded.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
    let total: u64 = folded.iter().map(|f| f.2).sum();
    let half = total as f64 / 2.0;
    let mut seen = 0.0;
    for (lo, hi, c) in folded {
        let next = seen + c as f64;
        if next >= half {
            if hi == 0.0 {
                return 0.0;
            }
            if lo == 0.0 || hi.is_infinite() {
                return if hi.is_infinite() { lo } else { hi };
            }
            let t = (half - seen) / c as f64;
            return lo * (hi / lo).powf(t);
        }
        seen = next;
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::record::{HistogramBin, Keyed, RunKey};

    fn row(seed: u64, layer: usize, low: f64, high: f64, count: u64) -> HistogramRow {
        Keyed {
            run: RunKey {
                experiment: "e".into(),
                init: "i".into(),
                activation: "tanh".into(),
                seed,
                axes: Vec::new(),
                // The key's fields, then the row's.
            },
            row: HistogramBin {
                epoch: 0,
                layer,
                quantity: Quantity::Gradient,
                bin_low: low,
                bin_high: high,
                count,
            },
        }
    }

    #[test]
    fn axes_are_the_union_of_bins_in_value_order() {
        let rows = vec![
            row(0, 1, 0.1, 0.178, 3),
            row(0, 1, 0.0, 0.0, 1),
            row(1, 1, -0.178, -0.1, 2),
            row(1, 1, 0.0, 1e-9, 4),
            row(0, 2, 1.0, 1.78, 5),
        ];
        let h = Histograms::from_rows(&rows);
        assert_eq!(h.output_layer, 2);
        assert_eq!(h.axes.len(), 2);
        assert_eq!(
            h.axes[0].bins,
            vec![(-0.178, -0.1), (0.0, 0.0), (0.0, 1e-9), (0.1, 0.178)]
        );
        assert_eq!(h.hists.len(), 3);
        assert_eq!(h.hists[0].counts, vec![(1, 1), (3, 3)]);
        let sums = h.seed_sums("i", "tanh", Quantity::Gradient, 0);
        assert_eq!(sums[0].2, vec![0.2, 0.1, 0.4, 0.3]);
        // Median |g| of layer 1, seeds summed: 10 values, 5 at most 1e-9 → the 5th value
        // is at the top of (0, 1e-9).
        let counts: Vec<(usize, u64)> = vec![(0, 2), (1, 1), (2, 4), (3, 3)];
        assert_eq!(median_magnitude(&h.axes[0], &counts), 1e-9);
        assert_eq!(share_within(&h.axes[0], &counts, -0.1, 0.1), 0.5);
    }
}
