//! `blocks.svg`: the std of every residual block's output in the untrained network, block
//! after block, beside what the mean-field theory of residual networks predicts for it
//! ([`crate::theory::residual`], Yang & Schoenholz 2017).
//!
//! The measured values are `layers.csv`'s `activation_std` at the first logged epoch (epoch
//! 0), mean over seeds; the rows of a residual network are its stages (the stem's dense
//! layer and activation, then one row per block, then the output layer), so the rows from
//! the first block on are the blocks. The prediction needs the network and the starts, which
//! the report reads back from `config.toml`: it rebuilds each axis point's network (the
//! same builder as the run, without data — the branches' shapes do not depend on the data),
//! reads each branch's σ_w², σ_b² and α off the start at that place
//! ([`block_streams`]), and runs the stream's recursion q ← q + α²·v(q) from the measured
//! stream entering the first block (its mean square, mean² + std²). The predicted std is
//! √(q − μ²) with μ that stream's mean, which the branches leave unchanged in expectation.

use plotters::prelude::*;

use super::chart::{self, Axis, Legend, rgb};
use super::palette::Styles;
use super::plots::{PANEL_H, PANEL_W, Picture, grid_for, picture};
use super::read::{LayerRow, Results};
use crate::experiment::Experiment;
use crate::experiment::build::network_layers;
use crate::experiment::record::point_label;
use crate::experiment::spec::ExperimentSpec;
use crate::nn::{Layer, Network};
use crate::theory::residual::{ResidualStream, block_streams};

/// One panel: an axis point and activation, with one curve per start.
#[derive(Clone, Debug)]
pub struct Panel {
    /// The axis point and activation (and the number of blocks).
    pub title: String,
    /// One per start of the point.
    pub curves: Vec<Curve>,
}

/// One start's measured and predicted block output std as `(block, std)`, block 0 being the
/// stream entering the first block.
#[derive(Clone, Debug)]
pub struct Curve {
    /// The start's label (without the axis point).
    pub start: String,
    /// Measured, mean over seeds.
    pub measured: Vec<(f64, f64)>,
    /// Predicted from the measured block 0 on (empty when the theory does not apply: a
    /// start without a variance formula, a separate bias start).
    pub predicted: Vec<(f64, f64)>,
}

/// The 1-based `layers.csv` rows of `network` that are residual blocks (each stage starts at
/// the first layer, a dense layer or a residual block, as the probe counts them).
fn block_rows<T: crate::nn::Float>(network: &Network<T>) -> Vec<usize> {
    let starts = (0..network.layers.len())
        .filter(|&l| l == 0 || matches!(network.layers[l], Layer::Dense(_) | Layer::Residual(_)));
    starts
        .enumerate()
        .filter(|&(_, l)| matches!(network.layers[l], Layer::Residual(_)))
        .map(|(row, _)| row + 1)
        .collect()
}

/// The std predicted after each block for a stream entering with mean square `q0` and mean
/// `mean`, block by block (the blocks may differ).
pub fn predicted_stds(streams: &[ResidualStream], q0: f64, mean: f64) -> Vec<f64> {
    let mut q = q0;
    streams
        .iter()
        .map(|s| {
            q = s.next(q);
            (q - mean * mean).max(0.0).sqrt()
        })
        .collect()
}

/// Mean over seeds of a layer row's (std, mean) at the first logged epoch.
fn measured(rows: &[&LayerRow], layer: usize) -> Option<(f64, f64)> {
    let hits: Vec<_> = rows.iter().filter(|r| r.row.layer == layer).collect();
    if hits.is_empty() {
        return None;
    }
    let n = hits.len() as f64;
    Some((
        hits.iter().map(|r| r.row.activation_std).sum::<f64>() / n,
        hits.iter().map(|r| r.row.activation_mean).sum::<f64>() / n,
    ))
}

/// The panels of a results directory whose network has residual blocks; `None` when it has
/// none, or the layers or the config are missing or unreadable.
pub fn panels(results: &Results) -> Option<Vec<Panel>> {
    let layers = results.layers.as_deref()?;
    let first_epoch = layers.iter().map(|r| r.row.epoch).min()?;
    let spec = ExperimentSpec::from_toml(results.config.as_deref()?, "config.toml").ok()?;
    let exp = Experiment::from_spec(spec, "config.toml", None).ok()?;
    let mut panels = Vec::new();
    for (k, point) in exp.sweep.points.iter().enumerate() {
        let key = exp.sweep.key_of(k);
        let net = &point.spec.network;
        for &activation in &net.activations {
            // The stem's input width and the classes do not reach the branches.
            let width = net.hidden.first().copied().unwrap_or(1);
            let Ok(network) = network_layers::<f64>(&net.shape(), width, 2, activation, net.loss)
            else {
                continue;
            };
            let rows = block_rows(&network);
            let Some(&first) = rows.first() else {
                continue;
            };
            let mut curves = Vec::new();
            for init in &point.inits {
                let label = point_label(&init.label, &key);
                let runs: Vec<&LayerRow> = layers
                    .iter()
                    .filter(|r| {
                        r.row.epoch == first_epoch
                            && r.run.init == label
                            && r.run.activation == activation.name()
                    })
                    .collect();
                let Some((stem_std, stem_mean)) = measured(&runs, first - 1) else {
                    continue;
                };
                let mut measured_pts = vec![(0.0, stem_std)];
                for (b, &row) in rows.iter().enumerate() {
                    if let Some((std, _)) = measured(&runs, row) {
                        measured_pts.push(((b + 1) as f64, std));
                    }
                }
                let predicted = match (&init.bias, block_streams(&network, &init.init)) {
                    (None, Ok(streams)) => {
                        let q0 = stem_std * stem_std + stem_mean * stem_mean;
                        std::iter::once(stem_std)
                            .chain(predicted_stds(&streams, q0, stem_mean))
                            .enumerate()
                            .map(|(b, s)| (b as f64, s))
                            .collect()
                    }
                    _ => Vec::new(),
                };
                curves.push(Curve {
                    start: init.label.clone(),
                    measured: measured_pts,
                    predicted,
                });
            }
            let where_ = key
                .iter()
                .map(|(c, v)| format!("{c}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let title = match (where_.is_empty(), net.activations.len() > 1) {
                (true, _) => format!("{}, {} blocks", activation.name(), rows.len()),
                (false, true) => format!("{}, {where_}", activation.name()),
                (false, false) => format!("{where_} ({} blocks)", rows.len()),
            };
            panels.push(Panel { title, curves });
        }
    }
    (!panels.is_empty()).then_some(panels)
}

/// `blocks.svg` (a network with residual blocks): per-block output std at initialization,
/// log scale, one line per start, with the mean-field prediction as thin lines with hollow
/// markers; one panel per `[grid]` point and activation.
pub fn blocks(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(panels) = panels(results) else {
        return Ok(None);
    };
    let values = panels
        .iter()
        .flat_map(|p| &p.curves)
        .flat_map(|c| c.measured.iter().chain(&c.predicted))
        .map(|&(_, v)| v)
        .filter(|v| v.is_finite() && *v > 0.0);
    let y = Axis::log_fit(values, "std of the block's output (log scale)");
    let mut starts: Vec<String> = Vec::new();
    for c in panels.iter().flat_map(|p| &p.curves) {
        if !starts.contains(&c.start) {
            starts.push(c.start.clone());
        }
    }
    let styles = Styles::new(&starts);
    let (rows, cols) = grid_for(panels.len());
    let pic = picture(
        "blocks.svg",
        "Residual blocks at initialization: output std, block after block",
        rows,
        cols,
        (PANEL_W, PANEL_H),
        |areas, side| {
            for (panel, area) in panels.iter().zip(areas) {
                let last = panel
                    .curves
                    .iter()
                    .flat_map(|c| c.measured.last())
                    .map(|p| p.0)
                    .fold(1.0, f64::max);
                let x = Axis::integers(0.0, last, "block (0 = input of the first)");
                let mut ch = chart::panel(area, &panel.title, &x, &y)?;
                let to_y = |v: f64| (v.is_finite() && v > 0.0).then(|| y.map(v)).flatten();
                for c in &panel.curves {
                    let style = styles.get(&c.start);
                    let colour = rgb(style.color);
                    let predicted: Vec<(f64, Option<f64>)> =
                        c.predicted.iter().map(|&(b, v)| (b, to_y(v))).collect();
                    chart::line(&mut ch, &predicted, colour, 1)?;
                    let marks: Vec<(f64, f64)> = chart::thin(predicted.len())
                        .into_iter()
                        .step_by((predicted.len() / 12).max(1))
                        .filter_map(|i| Some((predicted[i].0, predicted[i].1?)))
                        .collect();
                    ch.draw_series(marks.into_iter().map(|p| Circle::new(p, 4, colour)))?;
                    let measured: Vec<(f64, Option<f64>)> =
                        c.measured.iter().map(|&(b, v)| (b, to_y(v))).collect();
                    chart::styled_line(&mut ch, &measured, style, 2)?;
                }
            }
            let mut legend = vec![Legend::Heading("start".into())];
            legend.extend(
                starts
                    .iter()
                    .map(|s| Legend::Start(s.clone(), styles.get(s))),
            );
            legend.push(Legend::Heading(String::new()));
            legend.push(Legend::Heading("measured: thick line".into()));
            legend.push(Legend::Hollow("mean-field prediction".into()));
            legend.push(Legend::Heading("(epoch 0, mean over seeds)".into()));
            chart::legend(side, &legend)
        },
    )?;
    Ok(Some(pic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::residual::BranchLayer;

    #[test]
    fn predicted_stds_follow_the_recursion() {
        let he = BranchLayer {
            sigma_w2: 2.0,
            sigma_b2: 0.0,
        };
        let stream = ResidualStream {
            activation: crate::nn::Activation::Relu,
            branch: vec![he, he],
            alpha: 1.0,
            pre_norm: false,
        };
        // q triples per block: 1, 3, 9 with μ = 0 → std √3, 3.
        let s = predicted_stds(&[stream.clone(), stream], 1.0, 0.0);
        assert!(
            (s[0] - 3f64.sqrt()).abs() < 1e-12 && (s[1] - 3.0).abs() < 1e-12,
            "{s:?}"
        );
    }
}
