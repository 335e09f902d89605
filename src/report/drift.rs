//! `drift.svg`: lazy or feature learning — how far each layer has moved from its start by
//! the last logged epoch, against the width (`layers.csv`'s `weight_change` and
//! `feature_change`, see [`crate::nn::drift`]), for an experiment with a `network.width`
//! axis: log-log, one line per layer (light = first, dark = output), mean over seeds; the
//! top row the weights, the bottom row the layer's outputs; one column per start and value
//! of the other axes (the parametrization), at most four. Under the standard
//! parametrization the first layer's lines fall like 1/width (the kernel regime); under μP
//! the features' lines stay flat.

use super::chart::{self, Axis, Legend};
use super::plots::{PANEL_H, PANEL_W, Picture, depth_color, picture};
use super::read::{LayerRow, Results};
use crate::experiment::record::{axis_value, point_label};

const WIDTH: &str = "width";

/// Columns at most (one per start and value of the other axes).
const MAX_COLUMNS: usize = 4;

/// A column's key: activation, the start (without its axis values) and the other axes.
fn column_of(r: &LayerRow) -> String {
    let start = r
        .run
        .init
        .strip_suffix(&point_label("", &r.run.axes))
        .unwrap_or(&r.run.init);
    let mut parts = vec![r.run.activation.clone(), start.to_string()];
    parts.extend(
        r.run
            .axes
            .iter()
            .filter(|(c, _)| c != WIDTH)
            .map(|(c, v)| format!("{c}={v}")),
    );
    parts.join(", ")
}

/// The width of a row's run.
fn width_of(r: &LayerRow) -> Option<f64> {
    axis_value(&r.run.axes, WIDTH)?.parse().ok()
}

/// `drift.svg`, or `None` without a width axis of two values or more, with more than
/// four columns, or without the columns (files written before them).
pub fn drift(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(layers) = results.layers.as_deref() else {
        return Ok(None);
    };
    let Some(last) = layers.iter().map(|r| r.row.epoch).max() else {
        return Ok(None);
    };
    let rows: Vec<&LayerRow> = layers.iter().filter(|r| r.row.epoch == last).collect();
    let mut widths: Vec<f64> = rows.iter().filter_map(|r| width_of(r)).collect();
    widths.sort_by(f64::total_cmp);
    widths.dedup();
    if widths.len() < 2 || rows.iter().all(|r| r.row.feature_change.is_none()) {
        return Ok(None);
    }
    let mut columns: Vec<String> = Vec::new();
    for r in &rows {
        let c = column_of(r);
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    if columns.len() > MAX_COLUMNS {
        return Ok(None);
    }
    let depth = rows.iter().map(|r| r.row.layer).max().unwrap_or(1);
    let x = Axis::log_fit(widths.iter().copied(), "width (log scale)");
    type Reader = fn(&LayerRow) -> Option<f64>;
    let quantities: [(&str, Reader); 2] = [
        ("weight change ‖W−W₀‖/‖W₀‖", |r| {
            r.row.weight_change
        }),
        ("feature change ‖h−h₀‖/‖h₀‖", |r| {
            r.row.feature_change
        }),
    ];
    // Mean over seeds of one column, quantity, layer and width.
    let mean = |column: &str, read: Reader, layer: usize, width: f64| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r.row.layer == layer && width_of(r) == Some(width))
            .filter(|r| column_of(r) == column)
            .filter_map(|r| read(r))
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let pic = picture(
        "drift.svg",
        &format!("How far each layer has moved from its start by epoch {last}, against width"),
        2,
        columns.len(),
        (PANEL_W, PANEL_H),
        |areas, side| {
            for (row, (label, read)) in quantities.iter().enumerate() {
                let mut values = Vec::new();
                for c in &columns {
                    for l in 1..=depth {
                        values.extend(widths.iter().filter_map(|&w| mean(c, *read, l, w)));
                    }
                }
                let y = Axis::log_fit(values, &format!("{label} (log)"));
                for (col, column) in columns.iter().enumerate() {
                    let area = &areas[row * columns.len() + col];
                    let mut ch = chart::panel(area, column, &x, &y)?;
                    for layer in 1..=depth {
                        let line: Vec<(f64, Option<f64>)> = widths
                            .iter()
                            .map(|&w| {
                                let v = mean(column, *read, layer, w).and_then(|v| y.map(v));
                                (x.map(w).unwrap_or(0.0), v)
                            })
                            .collect();
                        chart::line(&mut ch, &line, depth_color(layer, depth), 2)?;
                    }
                }
            }
            let mut legend = vec![Legend::Heading("layer".into())];
            legend.extend((1..=depth).map(|l| {
                let name = if l == depth {
                    format!("{l} (output)")
                } else {
                    l.to_string()
                };
                Legend::Line(name, depth_color(l, depth))
            }));
            legend.push(Legend::Heading(String::new()));
            legend.push(Legend::Heading("mean over seeds".into()));
            chart::legend(side, &legend)
        },
    )?;
    Ok(Some(pic))
}
