//! `transfer.svg`: learning-rate transfer across width (Yang et al. 2022, Tensor Programs V,
//! Figure 1; the `lr-transfer` built-in). For a `[grid]` over `training.learning_rate` (three
//! values or more) and `network.width` (two or more): the final train loss against log₂ of
//! the learning rate, one line per width (light = narrow, dark = wide), a band of ± one
//! standard deviation over seeds, the best learning rate of each width marked; one panel per
//! value of the other axes (the parametrization) and start. Under the standard
//! parametrization the curves slide left as the width grows (the best rate falls); under μP
//! they line up. The numbers are `summary.csv`'s.

use plotters::prelude::*;

use super::chart::{self, Axis, Legend};
use super::plots::{PANEL_H, PANEL_W, Picture, depth_color, grid_for, picture};
use super::read::{Results, SummaryRow};
use crate::experiment::record::{axis_value, point_label};

const LR: &str = "learning_rate";
const WIDTH: &str = "width";

/// The sorted distinct numbers of axis `column` in the summary.
fn numbers(rows: &[SummaryRow], column: &str) -> Vec<f64> {
    let mut v: Vec<f64> = rows
        .iter()
        .filter_map(|r| axis_value(&r.axes, column)?.parse().ok())
        .collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// A panel's key: activation, the start (without its axis values) and the other axes.
fn panel_of(r: &SummaryRow) -> String {
    let start = r
        .init
        .strip_suffix(&point_label("", &r.axes))
        .unwrap_or(&r.init);
    let mut parts = vec![r.activation.clone(), start.to_string()];
    parts.extend(
        r.axes
            .iter()
            .filter(|(c, _)| c != LR && c != WIDTH)
            .map(|(c, v)| format!("{c}={v}")),
    );
    parts.join(", ")
}

/// `transfer.svg`, or `None` without a learning-rate and a width axis.
pub fn transfer(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(rows) = results.summary.as_deref() else {
        return Ok(None);
    };
    let (rates, widths) = (numbers(rows, LR), numbers(rows, WIDTH));
    if rates.len() < 3 || widths.len() < 2 || rates[0] <= 0.0 {
        return Ok(None);
    }
    let mut panels: Vec<String> = Vec::new();
    for r in rows {
        let p = panel_of(r);
        if !panels.contains(&p) {
            panels.push(p);
        }
    }
    let x = Axis::linear_fit(
        rates.iter().map(|r| r.log2()),
        (-1.0, 1.0),
        "log2(learning rate)",
    );
    let losses = rows.iter().filter_map(|r| r.final_train_loss_mean);
    let y = Axis::log_fit(losses, "final train loss (log scale)");
    let (grid_rows, cols) = grid_for(panels.len());
    let pic = picture(
        "transfer.svg",
        "Learning-rate transfer across width: final train loss against the learning rate",
        grid_rows,
        cols,
        (PANEL_W + 40, PANEL_H),
        |areas, side| {
            for (panel, area) in panels.iter().zip(areas) {
                let mut ch = chart::panel(area, panel, &x, &y)?;
                for (k, &width) in widths.iter().enumerate() {
                    let colour = depth_color(k + 1, widths.len());
                    let mut points: Vec<(f64, Option<f64>, Option<f64>)> = rows
                        .iter()
                        .filter(|r| &panel_of(r) == panel)
                        .filter(|r| {
                            axis_value(&r.axes, WIDTH).and_then(|v| v.parse().ok()) == Some(width)
                        })
                        .filter_map(|r| {
                            let lr: f64 = axis_value(&r.axes, LR)?.parse().ok()?;
                            let m = r.final_train_loss_mean;
                            let s = r.final_train_loss_std.unwrap_or(0.0);
                            Some((lr.log2(), m, m.map(|m| m + s)))
                        })
                        .collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let clamp = |v: f64| y.map(v.max(1e-300)).map(|v| y.clamp(v));
                    let band: Vec<_> = points
                        .iter()
                        .map(|&(lr, m, hi)| {
                            let lo = m.zip(hi).map(|(m, hi)| m - (hi - m));
                            (lr, lo.and_then(clamp), hi.and_then(clamp))
                        })
                        .collect();
                    chart::band(&mut ch, &band, colour, 0.15)?;
                    let line: Vec<_> = points
                        .iter()
                        .map(|&(lr, m, _)| (lr, m.and_then(clamp)))
                        .collect();
                    chart::line(&mut ch, &line, colour, 2)?;
                    if let Some(best) = line
                        .iter()
                        .filter_map(|&(lr, v)| Some((lr, v?)))
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                    {
                        ch.draw_series(std::iter::once(Circle::new(best, 5, colour.filled())))?;
                    }
                }
            }
            let mut legend = vec![Legend::Heading("width".into())];
            legend.extend(
                widths
                    .iter()
                    .enumerate()
                    .map(|(k, w)| Legend::Line(format!("{w}"), depth_color(k + 1, widths.len()))),
            );
            legend.push(Legend::Heading(String::new()));
            legend.push(Legend::Heading("dot: best rate".into()));
            legend.push(Legend::Band("± 1 std over seeds".into()));
            legend.push(Legend::Heading("gap: diverged".into()));
            chart::legend(side, &legend)
        },
    )?;
    Ok(Some(pic))
}
