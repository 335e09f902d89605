//! The distribution figures of experiments/README.md, computed from a results directory's
//! `histograms.csv` (seeds summed, hidden layers, first epoch with histograms unless said):
//!
//! ```text
//! cargo run --release --example distribution_figures -- results/deep-tanh
//! ```
//!
//! Prints one Markdown table per start × activation: per hidden layer, the share of
//! activations with |a| < 0.1 (bounded activations), the share exactly 0, the share with
//! |a| ≥ 0.95, the largest single bin's share, and the median |a| (of all values and of
//! the non-zero ones) and |dL/da| (geometric
//! interpolation within a bin; signed-log bins are 10^(1/4) wide).

use std::path::PathBuf;

use initlab::experiment::record::{HistogramRow, read_keyed};
use initlab::nn::histogram::Quantity;
use initlab::report::histograms::{Histograms, median_magnitude, share_within};

fn main() -> anyhow::Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("usage: distribution_figures RESULTS_DIR [EPOCH]"))?;
    let rows: Vec<HistogramRow> = read_keyed(&dir.join("histograms.csv"))?;
    let h = Histograms::from_rows(&rows);
    let epoch = match std::env::args().nth(2) {
        Some(e) => e.parse()?,
        None => h.epochs[0],
    };
    let mut cells: Vec<(String, String)> = Vec::new();
    for x in &h.hists {
        let c = (x.init.clone(), x.activation.clone());
        if !cells.contains(&c) {
            cells.push(c);
        }
    }
    for (init, act) in cells {
        println!("\n{init} · {act} · epoch {epoch}\n");
        println!(
            "| layer | share \\|a\\| < 0.1 | share a = 0 | share \\|a\\| ≥ 0.95 | largest bin | median \\|a\\| | median \\|a\\|, a ≠ 0 | median \\|dL/da\\| |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        let acts = h.seed_sums(&init, &act, Quantity::Activation, epoch);
        let grads = h.seed_sums(&init, &act, Quantity::Gradient, epoch);
        for ((layer, axis, fa), (_, gaxis, fg)) in acts.iter().zip(&grads) {
            if *layer >= h.output_layer {
                continue;
            }
            // Back to (bin, weight) pairs, fractions as weights (the functions only use ratios).
            let pairs = |f: &[f64]| -> Vec<(usize, u64)> {
                f.iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(i, v)| (i, (v * 1e12).round() as u64))
                    .collect()
            };
            let (ax, gx) = (&h.axes[*axis], &h.axes[*gaxis]);
            let a = pairs(fa);
            let g = pairs(fg);
            let small = share_within(ax, &a, -0.1, 0.1);
            let zero = share_within(ax, &a, 0.0, 0.0);
            let big = 1.0 - share_within(ax, &a, -0.95, 0.95);
            let largest = fa.iter().copied().fold(0.0, f64::max);
            let nonzero: Vec<(usize, u64)> = a
                .iter()
                .copied()
                .filter(|(b, _)| ax.bins[*b] != (0.0, 0.0))
                .collect();
            println!(
                "| {layer} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3e} | {:.3e} | {:.3e} |",
                small,
                zero,
                big,
                largest,
                median_magnitude(ax, &a),
                median_magnitude(ax, &nonzero),
                median_magnitude(gx, &g)
            );
        }
    }
    Ok(())
}
