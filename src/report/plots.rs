//! The pictures. Each function returns `Ok(None)` when the results hold no data for it.

use std::collections::BTreeMap;

use plotters::prelude::*;

use super::chart::{self, Area, Axis, LEGEND_W, Legend, rgb};
use super::palette::{Styles, class_color};
use super::read::{LayerRow, MetricRow, Results, SummaryRow};
use crate::experiment::record::{axis_value, point_label};
use crate::nn::histogram::Quantity;
use crate::nn::stats::{LayerColumn, column};

/// One drawn picture.
#[derive(Debug, Clone)]
pub struct Picture {
    /// The file name, e.g. `loss.svg`.
    pub file: &'static str,
    /// The picture's title.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// A per-layer quantity: the panel's caption and the column of `layers.csv` it shows (whose
/// label names the y axis and whose reader takes it from a row).
type LayerField = (&'static str, &'static LayerColumn);

/// A picture drawer.
type Drawer = fn(&Results) -> anyhow::Result<Option<Picture>>;

/// A panel's size in pixels.
pub(super) const PANEL_W: u32 = 380;
/// A panel's height in pixels.
pub(super) const PANEL_H: u32 = 290;
const TITLE_H: u32 = 44;

/// Lays out a picture: title, a grid of `rows × cols` panels and the legend column, then
/// calls `draw(panels, legend)`.
pub(super) fn picture<F>(
    file: &'static str,
    title: &str,
    rows: usize,
    cols: usize,
    size: (u32, u32),
    draw: F,
) -> anyhow::Result<Picture>
where
    F: FnOnce(&[Area], &Area) -> anyhow::Result<()>,
{
    let (pw, ph) = size;
    let w = pw * cols as u32 + LEGEND_W;
    let h = TITLE_H + ph * rows as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = root.titled(title, (chart::FONT, 24))?;
        let (main, side) = body.split_horizontally(pw * cols as u32);
        let panels = main.split_evenly((rows, cols));
        draw(&panels, &side)?;
        root.present()?;
    }
    Ok(Picture {
        file,
        title: title.to_string(),
        svg: chart::compact(&svg),
    })
}

/// Columns for a row of `n` panels that wraps after three.
pub(super) fn grid_for(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, 3);
    (n.div_ceil(cols).max(1), cols)
}

/// The styles of the starts: one assignment for every picture of a results directory.
pub fn styles(results: &Results) -> Styles {
    Styles::new(&results.inits)
}

fn init_legend(results: &Results, inits: &[String]) -> Vec<Legend> {
    let styles = styles(results);
    let mut v = vec![Legend::Heading("init".into())];
    v.extend(
        results
            .inits
            .iter()
            .filter(|i| inits.contains(i))
            .map(|i| Legend::Start(i.clone(), styles.get(i))),
    );
    v
}

/// The runs of one init × activation: seed → rows sorted by epoch.
fn runs<'r>(metrics: &'r [MetricRow], init: &str, act: &str) -> BTreeMap<u64, Vec<&'r MetricRow>> {
    let mut out: BTreeMap<u64, Vec<&MetricRow>> = BTreeMap::new();
    for r in metrics
        .iter()
        .filter(|r| r.run.init == init && r.run.activation == act)
    {
        out.entry(r.run.seed).or_default().push(r);
    }
    for rows in out.values_mut() {
        rows.sort_by_key(|r| r.row.epoch);
    }
    out
}

/// Mean, min and max over seeds at each epoch of `field`, in drawing units of `y`, and
/// the divergence markers (epoch, drawing-unit y).
#[allow(clippy::type_complexity)]
fn seed_curves(
    metrics: &[MetricRow],
    init: &str,
    act: &str,
    field: &dyn Fn(&MetricRow) -> Option<f64>,
    y: &Axis,
) -> (
    Vec<(f64, Option<f64>)>,
    Vec<(f64, Option<f64>, Option<f64>)>,
    Vec<(f64, f64)>,
) {
    let runs = runs(metrics, init, act);
    let mut by_epoch: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let mut crosses = Vec::new();
    for rows in runs.values() {
        for r in rows {
            let v = field(r).filter(|v| y.map(*v).is_some());
            let slot = by_epoch.entry(r.row.epoch).or_default();
            if let Some(v) = v {
                slot.push(v);
            }
            if r.row.diverged {
                let last = rows
                    .iter()
                    .rev()
                    .filter_map(|q| field(q).and_then(|v| y.map(v)))
                    .next()
                    .unwrap_or(y.hi);
                crosses.push((r.row.epoch as f64, y.clamp(last)));
            }
        }
    }
    let mut mean = Vec::new();
    let mut range = Vec::new();
    for (e, vals) in by_epoch {
        let x = e as f64;
        match chart::stats(vals) {
            Some((m, lo, hi)) => {
                mean.push((x, y.map(m)));
                range.push((x, y.map(lo), y.map(hi)));
            }
            None => {
                mean.push((x, None));
                range.push((x, None, None));
            }
        }
    }
    (mean, range, crosses)
}

fn epoch_axis(metrics: &[MetricRow]) -> Axis {
    let (a, b) = chart::min_max(metrics.iter().map(|r| r.row.epoch as f64)).unwrap_or((0.0, 1.0));
    Axis::integers(a, b, "epoch (passes over the training set)")
}

/// Curves over epochs (mean over seeds, min–max band, × at divergence), panel per activation.
fn curves_picture(
    results: &Results,
    file: &'static str,
    title: &str,
    y: Axis,
    field: &dyn Fn(&MetricRow) -> Option<f64>,
) -> anyhow::Result<Picture> {
    let m = &results.metrics;
    let x = epoch_axis(m);
    let (rows, cols) = grid_for(results.activations.len());
    let any_diverged = m.iter().any(|r| r.row.diverged);
    let styles = styles(results);
    picture(
        file,
        title,
        rows,
        cols,
        (PANEL_W, PANEL_H),
        |panels, side| {
            for (act, area) in results.activations.iter().zip(panels) {
                let mut ch = chart::panel(area, &format!("activation: {act}"), &x, &y)?;
                let mut all = Vec::new();
                for init in &results.inits {
                    let (mean, range, crosses) = seed_curves(m, init, act, field, &y);
                    let style = styles.get(init);
                    let c = rgb(style.color);
                    chart::band(&mut ch, &range, c, 0.15)?;
                    all.push((mean, crosses, style));
                }
                for (mean, crosses, style) in all {
                    let c = rgb(style.color);
                    chart::styled_line(&mut ch, &mean, style, 2)?;
                    ch.draw_series(
                        crosses
                            .into_iter()
                            .map(|p| Cross::new(p, 6, c.stroke_width(2))),
                    )?;
                }
            }
            let mut leg = init_legend(results, &results.inits);
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Band("min–max over seeds".into()));
            if any_diverged {
                leg.push(Legend::Cross("run diverged".into()));
            }
            chart::legend(side, &leg)
        },
    )
}

/// `loss.svg`: mean train loss over seeds with a min–max band, log y, × at divergence.
pub fn loss(results: &Results) -> anyhow::Result<Option<Picture>> {
    if !results.metrics.iter().any(|r| r.row.train_loss.is_finite()) {
        return Ok(None);
    }
    let y = Axis::log_fit(
        results.metrics.iter().map(|r| r.row.train_loss),
        "train loss (log scale)",
    );
    curves_picture(results, "loss.svg", "Training loss per epoch", y, &|r| {
        Some(r.row.train_loss)
    })
    .map(Some)
}

/// `accuracy.svg`: test accuracy in %, drawn only when the test columns have values.
pub fn accuracy(results: &Results) -> anyhow::Result<Option<Picture>> {
    let vals: Vec<f64> = results
        .metrics
        .iter()
        .filter_map(|r| r.row.test_accuracy)
        .filter(|v| v.is_finite())
        .collect();
    if vals.is_empty() {
        return Ok(None);
    }
    // The engine writes fractions; accept percentages too.
    let scale = if vals.iter().all(|v| *v <= 1.0 + 1e-9) {
        100.0
    } else {
        1.0
    };
    let y = Axis::linear(0.0, 100.0, "test accuracy (%)");
    curves_picture(
        results,
        "accuracy.svg",
        "Test accuracy per epoch",
        y,
        &move |r| r.row.test_accuracy.map(|v| v * scale),
    )
    .map(Some)
}

/// Per layer, mean over seeds of `field` for one init × activation at one epoch.
fn per_layer(
    layers: &[LayerRow],
    init: &str,
    act: &str,
    epoch: usize,
    column: &LayerColumn,
) -> BTreeMap<usize, f64> {
    let mut by_layer: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for r in layers
        .iter()
        .filter(|r| r.run.init == init && r.run.activation == act && r.row.epoch == epoch)
    {
        if let Some(v) = (column.value)(&r.row) {
            by_layer.entry(r.row.layer).or_default().push(v);
        }
    }
    by_layer
        .into_iter()
        .filter_map(|(l, v)| chart::stats(v).map(|(m, _, _)| (l, m)))
        .collect()
}

/// `signal.svg`: activation std and gradient std per layer at the first logged epoch.
pub fn signal(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(layers) = results.layers.as_deref() else {
        return Ok(None);
    };
    let Some(epoch) = layers.iter().map(|r| r.row.epoch).min() else {
        return Ok(None);
    };
    let fields: [LayerField; 2] = [
        ("activations", column("activation_std")),
        ("gradients", column("gradient_std")),
    ];
    let nlayers = layers.iter().map(|r| r.row.layer).max().unwrap_or(1);
    let x = Axis::integers(
        1.0,
        nlayers as f64,
        "layer (1 = first hidden, last = output)",
    );
    let styles = styles(results);
    let cols = results.activations.len().max(1);
    let title = if epoch == 0 {
        "Signal propagation at initialization (epoch 0)".to_string()
    } else {
        format!("Signal propagation at epoch {epoch}")
    };
    let pic = picture(
        "signal.svg",
        &title,
        2,
        cols,
        (PANEL_W - 40, PANEL_H - 20),
        |panels, side| {
            for (row, (what, column)) in fields.iter().enumerate() {
                let all: Vec<f64> = layers
                    .iter()
                    .filter(|r| r.row.epoch == epoch)
                    .filter_map(|r| (column.value)(&r.row))
                    .collect();
                let y = Axis::log_fit(all, &format!("{} (log scale)", column.label));
                for (col, act) in results.activations.iter().enumerate() {
                    let mut ch =
                        chart::panel(&panels[row * cols + col], &format!("{act}: {what}"), &x, &y)?;
                    for init in &results.inits {
                        let style = styles.get(init);
                        let c = rgb(style.color);
                        let means = per_layer(layers, init, act, epoch, column);
                        let pts: Vec<(f64, Option<f64>)> =
                            means.iter().map(|(l, v)| (*l as f64, y.map(*v))).collect();
                        chart::styled_line(&mut ch, &pts, style, 2)?;
                        ch.draw_series(
                            pts.iter().filter_map(|(l, v)| {
                                v.map(|v| Circle::new((*l, v), 3, c.filled()))
                            }),
                        )?;
                        let zeros: Vec<(f64, f64)> = means
                            .iter()
                            .filter(|(_, v)| **v == 0.0)
                            .map(|(l, _)| (*l as f64, y.lo))
                            .collect();
                        ch.draw_series(
                            zeros
                                .into_iter()
                                .map(|p| Circle::new(p, 5, c.stroke_width(2))),
                        )?;
                    }
                }
            }
            let mut leg = init_legend(results, &results.inits);
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Heading("mean over seeds".into()));
            if layers.iter().any(|r| {
                r.row.epoch == epoch
                    && (Some(r.row.activation_std) == Some(0.0)
                        || Some(r.row.gradient_std) == Some(0.0))
            }) {
                leg.push(Legend::Hollow("exactly 0 (bottom edge)".into()));
            }
            chart::legend(side, &leg)
        },
    )?;
    Ok(Some(pic))
}

/// `saturation.svg`: saturated and dead fractions over epochs. One line per init = the mean
/// over the layers that report the fraction (seed means first); the band is the spread
/// between the least and the most affected layer.
pub fn saturation(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(layers) = results.layers.as_deref() else {
        return Ok(None);
    };
    let metrics: [LayerField; 2] = [
        ("saturated units", column("saturated_fraction")),
        ("dead units", column("dead_fraction")),
    ];
    let present: Vec<_> = metrics
        .iter()
        .filter(|(_, c)| {
            layers
                .iter()
                .any(|r| (c.value)(&r.row).is_some_and(f64::is_finite))
        })
        .collect();
    if present.is_empty() {
        return Ok(None);
    }
    let (a, b) = chart::min_max(layers.iter().map(|r| r.row.epoch as f64)).unwrap_or((0.0, 1.0));
    let x = Axis::integers(a, b, "epoch (passes over the training set)");
    let y = Axis::linear(0.0, 100.0, "");
    let cols = results.activations.len().max(1);
    let styles = styles(results);
    let pic = picture(
        "saturation.svg",
        "Saturated and dead units during training",
        present.len(),
        cols,
        (PANEL_W, PANEL_H - 20),
        |panels, side| {
            for (row, (what, column)) in present.iter().enumerate() {
                let y = Axis {
                    label: format!("{} (%)", column.label),
                    ..y.clone()
                };
                for (col, act) in results.activations.iter().enumerate() {
                    let mut ch =
                        chart::panel(&panels[row * cols + col], &format!("{act}: {what}"), &x, &y)?;
                    let mut drew = false;
                    for init in &results.inits {
                        // epoch -> layer -> seed values
                        let mut acc: BTreeMap<usize, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
                        for r in layers
                            .iter()
                            .filter(|r| &r.run.init == init && &r.run.activation == act)
                        {
                            if let Some(v) = (column.value)(&r.row).filter(|v| v.is_finite()) {
                                acc.entry(r.row.epoch)
                                    .or_default()
                                    .entry(r.row.layer)
                                    .or_default()
                                    .push(v * 100.0);
                            }
                        }
                        if acc.is_empty() {
                            continue;
                        }
                        drew = true;
                        let mut mean = Vec::new();
                        let mut range = Vec::new();
                        for (e, per) in acc {
                            let layer_means: Vec<f64> = per
                                .into_values()
                                .filter_map(|v| chart::stats(v).map(|s| s.0))
                                .collect();
                            if let Some((m, lo, hi)) = chart::stats(layer_means) {
                                mean.push((e as f64, Some(m)));
                                range.push((e as f64, Some(lo), Some(hi)));
                            }
                        }
                        let style = styles.get(init);
                        chart::band(&mut ch, &range, rgb(style.color), 0.12)?;
                        chart::styled_line(&mut ch, &mean, style, 2)?;
                    }
                    if !drew {
                        chart::note(&mut ch, &x, &y, &format!("not measured for {act}"))?;
                    }
                }
            }
            let mut leg = init_legend(results, &results.inits);
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Heading("line: mean over layers".into()));
            leg.push(Legend::Band("range over layers".into()));
            chart::legend(side, &leg)
        },
    )?;
    Ok(Some(pic))
}

/// At most four layers to show: all if ≤ 4, else first, two in between and last.
fn pick_layers(all: &[usize]) -> Vec<usize> {
    if all.len() <= 4 {
        return all.to_vec();
    }
    let n = all.len() - 1;
    let mut v: Vec<usize> = [0, n / 3, 2 * n / 3, n].iter().map(|&i| all[i]).collect();
    v.dedup();
    v
}

/// `update-ratio.svg`: log10 of the update ratio per layer over epochs (geometric mean over
/// seeds), with a dashed reference line at −3.
pub fn update_ratio(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(layers) = results.layers.as_deref() else {
        return Ok(None);
    };
    let ratio = column("update_ratio");
    let logs = |r: &LayerRow| {
        (ratio.value)(&r.row)
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(f64::log10)
    };
    if !layers.iter().any(|r| logs(r).is_some()) {
        return Ok(None);
    }
    let mut all_layers: Vec<usize> = layers.iter().map(|r| r.row.layer).collect();
    all_layers.sort_unstable();
    all_layers.dedup();
    let shown = pick_layers(&all_layers);
    let last = *all_layers.last().unwrap_or(&1);
    let (a, b) = chart::min_max(layers.iter().map(|r| r.row.epoch as f64)).unwrap_or((0.0, 1.0));
    let x = Axis::integers(a, b, "epoch (passes over the training set)");
    let y = Axis::linear_fit(
        layers.iter().filter_map(logs).chain([-3.0]),
        (-4.0, -2.0),
        "log10(|update| / |weight|)",
    );
    let cols = results.activations.len().max(1);
    let styles = styles(results);
    let pic = picture(
        "update-ratio.svg",
        "Relative size of weight updates per layer",
        shown.len(),
        cols,
        (PANEL_W, PANEL_H - 40),
        |panels, side| {
            for (row, layer) in shown.iter().enumerate() {
                let name = if *layer == last {
                    format!("layer {layer} (output)")
                } else {
                    format!("layer {layer}")
                };
                for (col, act) in results.activations.iter().enumerate() {
                    let mut ch =
                        chart::panel(&panels[row * cols + col], &format!("{act}: {name}"), &x, &y)?;
                    ch.draw_series(DashedLineSeries::new(
                        [(x.lo, -3.0), (x.hi, -3.0)],
                        9,
                        6,
                        RGBColor(90, 90, 90).stroke_width(1),
                    ))?;
                    for init in &results.inits {
                        let mut by_epoch: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
                        for r in layers.iter().filter(|r| {
                            &r.run.init == init && &r.run.activation == act && r.row.layer == *layer
                        }) {
                            if let Some(v) = logs(r) {
                                by_epoch.entry(r.row.epoch).or_default().push(v);
                            }
                        }
                        let pts: Vec<(f64, Option<f64>)> = by_epoch
                            .into_iter()
                            .map(|(e, v)| (e as f64, chart::stats(v).map(|s| s.0)))
                            .collect();
                        chart::styled_line(&mut ch, &pts, styles.get(init), 2)?;
                    }
                }
            }
            let mut leg = init_legend(results, &results.inits);
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Dashed("ratio 10⁻³ (rule of thumb)".into()));
            leg.push(Legend::Heading("geometric mean over seeds".into()));
            chart::legend(side, &leg)
        },
    )?;
    Ok(Some(pic))
}

/// Edges of the cells around sorted unique grid coordinates.
fn edges(v: &[f64]) -> Vec<f64> {
    if v.len() == 1 {
        return vec![v[0] - 0.5, v[0] + 0.5];
    }
    let mut e = Vec::with_capacity(v.len() + 1);
    e.push(v[0] - (v[1] - v[0]) / 2.0);
    for w in v.windows(2) {
        e.push((w[0] + w[1]) / 2.0);
    }
    let n = v.len();
    e.push(v[n - 1] + (v[n - 1] - v[n - 2]) / 2.0);
    e
}

fn unique_sorted(vals: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = vals.filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * (1.0 + b.abs()));
    v
}

fn index_of(sorted: &[f64], v: f64) -> usize {
    match sorted.binary_search_by(|p| p.total_cmp(&v)) {
        Ok(i) => i,
        Err(i) => {
            if i == 0 {
                0
            } else if i >= sorted.len() || (v - sorted[i - 1]).abs() <= (sorted[i] - v).abs() {
                i.saturating_sub(1).min(sorted.len() - 1)
            } else {
                i
            }
        }
    }
}

/// How light a region is drawn for a confidence: more confident, more colour.
fn confidence_level(conf: Option<f64>) -> u8 {
    match conf.filter(|c| c.is_finite()) {
        Some(c) if c >= 0.9 => 2,
        Some(c) if c >= 0.7 => 1,
        Some(_) => 0,
        None => 2,
    }
}

/// Longest class name the boundary legend shows in full: about what fits its column
/// after `9 = ` in bold.
const LEGEND_NAME_CHARS: usize = 16;

/// A class name as the boundary legend shows it: cut to [`LEGEND_NAME_CHARS`] characters
/// with `…` (report.html lists the names in full).
fn legend_name(name: &str) -> String {
    if name.chars().count() <= LEGEND_NAME_CHARS {
        name.to_string()
    } else {
        let cut: String = name.chars().take(LEGEND_NAME_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// `boundary.svg`: decision regions per init × activation, training points on top.
pub fn boundary(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(grid) = results.boundary.as_deref().filter(|g| !g.is_empty()) else {
        return Ok(None);
    };
    let points = results.points.as_deref().unwrap_or(&[]);
    let inits: Vec<&String> = results
        .inits
        .iter()
        .filter(|i| grid.iter().any(|r| &r.run.init == *i))
        .collect();
    let acts: Vec<&String> = results
        .activations
        .iter()
        .filter(|a| grid.iter().any(|r| &r.run.activation == *a))
        .collect();
    let xs_all = unique_sorted(grid.iter().map(|r| r.row.x));
    let ys_all = unique_sorted(grid.iter().map(|r| r.row.y));
    let (xe, ye) = (edges(&xs_all), edges(&ys_all));
    let (x0, x1) = chart::min_max(
        xe.iter()
            .copied()
            .chain(points.iter().map(|p| p.x).filter(|v| v.is_finite())),
    )
    .unwrap_or((0.0, 1.0));
    let (y0, y1) = chart::min_max(
        ye.iter()
            .copied()
            .chain(points.iter().map(|p| p.y).filter(|v| v.is_finite())),
    )
    .unwrap_or((0.0, 1.0));
    let mut x = Axis::linear(x0, x1, "x₁ (input 1)");
    let mut y = Axis::linear(y0, y1, "x₂ (input 2)");
    x.ticks.retain(|t| *t >= x0 && *t <= x1);
    y.ticks.retain(|t| *t >= y0 && *t <= y1);
    // A class label is a whole number written as a float in points.csv.
    let mut classes: Vec<usize> = grid
        .iter()
        .map(|r| r.row.class)
        .chain(points.iter().map(|p| p.label as usize))
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let shown_points: Vec<(f64, f64, usize)> = {
        let ok: Vec<_> = points
            .iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite())
            .collect();
        let step = ok.len().div_ceil(300).max(1);
        ok.iter()
            .step_by(step)
            .map(|p| (p.x, p.y, p.label as usize))
            .collect()
    };
    let pic = picture(
        "boundary.svg",
        "Decision boundaries (first seed)",
        acts.len(),
        inits.len(),
        (300, 300),
        |panels, side| {
            for (row, act) in acts.iter().enumerate() {
                for (col, init) in inits.iter().enumerate() {
                    let mut ch = chart::panel(
                        &panels[row * inits.len() + col],
                        &format!("{init} · {act}"),
                        &x,
                        &y,
                    )?;
                    let cells: Vec<_> = grid
                        .iter()
                        .filter(|r| &r.run.init == *init && &r.run.activation == *act)
                        .collect();
                    let Some(seed) = cells.iter().map(|r| r.run.seed).min() else {
                        continue;
                    };
                    let mut map: BTreeMap<(usize, usize), (usize, u8)> = BTreeMap::new();
                    for r in cells.iter().filter(|r| {
                        r.run.seed == seed && r.row.x.is_finite() && r.row.y.is_finite()
                    }) {
                        map.insert(
                            (index_of(&ys_all, r.row.y), index_of(&xs_all, r.row.x)),
                            (r.row.class, confidence_level(Some(r.row.confidence))),
                        );
                    }
                    // Run-length encode each grid row so the SVG has few rectangles.
                    let mut rects = Vec::new();
                    for iy in 0..ys_all.len() {
                        let mut ix = 0;
                        while ix < xs_all.len() {
                            let Some(&key) = map.get(&(iy, ix)) else {
                                ix += 1;
                                continue;
                            };
                            let start = ix;
                            while ix + 1 < xs_all.len() && map.get(&(iy, ix + 1)) == Some(&key) {
                                ix += 1;
                            }
                            let light = [0.8, 0.65, 0.5][key.1 as usize];
                            let color = rgb(class_color(key.0).lighten(light));
                            // Overlap the next row and cell a little so that no hairline gaps
                            // show between neighbouring rectangles after rounding.
                            let top = if iy + 2 < ye.len() {
                                ye[iy + 1] + 0.3 * (ye[iy + 2] - ye[iy + 1])
                            } else {
                                ye[iy + 1]
                            };
                            let right = if ix + 2 < xe.len() {
                                xe[ix + 1] + 0.3 * (xe[ix + 2] - xe[ix + 1])
                            } else {
                                xe[ix + 1]
                            };
                            rects.push(Rectangle::new(
                                [(xe[start], ye[iy]), (right, top)],
                                color.filled(),
                            ));
                            ix += 1;
                        }
                    }
                    ch.draw_series(rects)?;
                    ch.draw_series(shown_points.iter().map(|&(px, py, l)| {
                        Circle::new((px, py), 3, rgb(class_color(l)).filled())
                    }))?;
                }
            }
            let names = results.class_names().unwrap_or_default();
            let mut leg = vec![Legend::Heading("class".into())];
            for k in &classes {
                let (point, region) = (rgb(class_color(*k)), rgb(class_color(*k).lighten(0.5)));
                match names.get(*k) {
                    // A named class gets its own line, so that a long name does not push
                    // "point"/"region" out of the legend column.
                    Some(name) => {
                        leg.push(Legend::Heading(format!("{k} = {}", legend_name(name))));
                        leg.push(Legend::Swatch("point".into(), point));
                        leg.push(Legend::Swatch("region".into(), region));
                    }
                    None => {
                        leg.push(Legend::Swatch(format!("class {k}: point"), point));
                        leg.push(Legend::Swatch(format!("class {k}: region"), region));
                    }
                }
            }
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Heading("paler = less confident".into()));
            chart::legend(side, &leg)
        },
    )?;
    Ok(Some(pic))
}

/// The colour of layer `layer` of `layers`: from light orange (the first hidden layer) to
/// dark purple (the deepest), so depth reads as darkness.
pub fn depth_color(layer: usize, layers: usize) -> RGBColor {
    let t = if layers > 1 {
        (layer - 1) as f64 / (layers - 1) as f64
    } else {
        0.0
    };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(253.0, 45.0), mix(174.0, 0.0), mix(97.0, 75.0))
}

/// An axis of bin positions 0..n−1 for `bins`, with the round ticks of [`bin_ticks`].
pub fn bin_axis(bins: &[(f64, f64)], label: &str) -> Axis {
    let kept = bin_ticks(bins);
    let mut axis = Axis::linear(-0.5, bins.len() as f64 - 0.5, label);
    axis.ticks = kept.iter().map(|(p, _)| *p).collect();
    axis.names = kept;
    axis
}

/// Where value `v` lies on an axis of bin positions (bin `i` spans `i − 0.5 .. i + 0.5`),
/// linearly within its bin; `None` if no finite bin holds it.
fn bin_position(bins: &[(f64, f64)], v: f64) -> Option<f64> {
    bins.iter().enumerate().find_map(|(i, &(lo, hi))| {
        let eps = 1e-9 * (hi - lo);
        (lo.is_finite() && hi.is_finite() && hi > lo && v >= lo - eps && v <= hi + eps)
            .then(|| i as f64 - 0.5 + ((v - lo) / (hi - lo)).clamp(0.0, 1.0))
    })
}

/// The label of ±10^e.
fn decade_label(negative: bool, e: i32) -> String {
    let magnitude = match e {
        -2 => "0.01".to_string(),
        -1 => "0.1".to_string(),
        0 => "1".to_string(),
        1 => "10".to_string(),
        2 => "100".to_string(),
        _ => format!("1e{e}"),
    };
    if negative {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

/// Round tick marks `(position, label)` for an axis of histogram bins (bin `i` centred at
/// `i`), the same in `distributions.svg` and the explorer. Linear bins (all one width): the
/// multiples of a 1, 2, 5 × 10^k step ([`chart::nice_ticks`]), about five. Signed-log bins:
/// 0 (the zero bin) and the decades ±10^e at bin edges, every 1, 2, 5, 10, … decades so
/// that at most seven marks remain.
pub fn bin_ticks(bins: &[(f64, f64)]) -> Vec<(f64, String)> {
    let spans: Vec<(f64, f64)> = bins
        .iter()
        .copied()
        .filter(|(a, b)| a.is_finite() && b.is_finite() && b > a)
        .collect();
    let Some(&(w_lo, w_hi)) = spans.first() else {
        return bins
            .iter()
            .position(|&(a, b)| a == 0.0 && b == 0.0)
            .map(|i| vec![(i as f64, "0".to_string())])
            .unwrap_or_default();
    };
    let w0 = w_hi - w_lo;
    let linear = spans
        .iter()
        .all(|(a, b)| ((b - a) - w0).abs() <= 1e-9 * w0.max(1e-300));
    if linear {
        let lo = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
        let hi = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
        return chart::nice_ticks(lo, hi, 5, 0.0)
            .into_iter()
            .filter_map(|t| bin_position(bins, t).map(|p| (p, chart::fmt_num(t))))
            .collect();
    }
    // (position, exponent, negative); the zero bin separately.
    let decade = |v: f64| {
        let e = v.abs().log10();
        (v != 0.0 && v.is_finite() && (e - e.round()).abs() < 1e-9).then(|| e.round() as i32)
    };
    let mut marks: Vec<(f64, i32, bool)> = Vec::new();
    let mut zero = None;
    for (i, &(lo, hi)) in bins.iter().enumerate() {
        if lo == 0.0 && hi == 0.0 {
            zero = Some(i as f64);
            continue;
        }
        if let Some(e) = decade(lo) {
            marks.push((i as f64 - 0.5, e, lo < 0.0));
        }
        // An upper edge that no bin starts at (the last bin before a gap).
        if let Some(e) = decade(hi)
            && !bins.iter().any(|b| b.0 == hi)
        {
            marks.push((i as f64 + 0.5, e, hi < 0.0));
        }
    }
    let room = 7 - usize::from(zero.is_some());
    let mut every = 1;
    for _ in 0..8 {
        let n = marks.iter().filter(|m| m.1 % every == 0).count();
        if n <= room {
            break;
        }
        every = chart::nice_step(f64::from(every) * 1.5, 1, 1.0) as i32;
    }
    let mut out: Vec<(f64, String)> = marks
        .into_iter()
        .filter(|m| m.1 % every == 0)
        .map(|(p, e, neg)| (p, decade_label(neg, e)))
        .chain(zero.map(|p| (p, "0".to_string())))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// `distributions.svg`, after Glorot & Bengio 2010, Figures 6 and 7: for each activation ×
/// start, the histograms of every hidden layer's activations and back-propagated
/// gradients (one line per layer, darker = deeper; seeds summed, each line a fraction of
/// its layer's values), at the first and the last epoch with histograms.
pub fn distributions(results: &Results) -> anyhow::Result<Option<Picture>> {
    use crate::nn::histogram::Quantity;
    let Some(rows) = results.histograms.as_deref() else {
        return Ok(None);
    };
    let h = super::histograms::Histograms::from_rows(rows);
    let (Some(&first), Some(&last)) = (h.epochs.first(), h.epochs.last()) else {
        return Ok(None);
    };
    let hidden = h.output_layer.saturating_sub(1);
    if hidden == 0 {
        return Ok(None);
    }
    let mut cells: Vec<(String, String)> = Vec::new();
    for act in &results.activations {
        for init in &results.inits {
            if h.hists
                .iter()
                .any(|x| &x.init == init && &x.activation == act)
            {
                cells.push((act.clone(), init.clone()));
            }
        }
    }
    let columns = [
        (Quantity::Activation, first, "activations"),
        (Quantity::Gradient, first, "gradients dL/da"),
        (Quantity::Activation, last, "activations"),
        (Quantity::Gradient, last, "gradients dL/da"),
    ];
    let title = format!(
        "Per-layer distributions at epoch {first} and epoch {last} (hidden layers; darker = deeper)"
    );
    let pic = picture(
        "distributions.svg",
        &title,
        cells.len(),
        columns.len(),
        (PANEL_W - 60, PANEL_H - 60),
        |panels, side| {
            for (row, (act, init)) in cells.iter().enumerate() {
                for (col, (quantity, epoch, what)) in columns.iter().enumerate() {
                    let sums: Vec<_> = h
                        .seed_sums(init, act, *quantity, *epoch)
                        .into_iter()
                        .filter(|(l, _, _)| *l < h.output_layer)
                        .collect();
                    let Some(axis) = sums.first().map(|s| s.1) else {
                        continue;
                    };
                    let bins = &h.axes[axis].bins;
                    let label = if bins.iter().any(|b| b.0 < 0.0 && b.0.is_finite())
                        && *quantity == Quantity::Gradient
                    {
                        "value (signed log bins)"
                    } else {
                        "value"
                    };
                    let x = bin_axis(bins, label);
                    let top = sums
                        .iter()
                        .flat_map(|s| s.2.iter().copied())
                        .fold(0.0, f64::max);
                    let y = Axis::linear(0.0, (top * 1.05).max(1e-3), "share of values");
                    let caption = format!("{act} · {init} · {what} · epoch {epoch}");
                    let mut ch =
                        chart::panel(&panels[row * columns.len() + col], &caption, &x, &y)?;
                    for (layer, _, fractions) in &sums {
                        let pts: Vec<(f64, Option<f64>)> = fractions
                            .iter()
                            .enumerate()
                            .map(|(i, f)| (i as f64, Some(*f)))
                            .collect();
                        chart::line(&mut ch, &pts, depth_color(*layer, hidden), 2)?;
                    }
                }
            }
            let mut leg = vec![Legend::Heading("hidden layer".into())];
            for l in pick_layers(&(1..=hidden).collect::<Vec<_>>()) {
                leg.push(Legend::Line(format!("layer {l}"), depth_color(l, hidden)));
            }
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Heading("seeds summed".into()));
            chart::legend(side, &leg)
        },
    )?;
    Ok(Some(pic))
}

/// `quantiles.svg` (when `quantiles.csv` exists): the distribution of the last hidden
/// layer's pre-activations over training, TensorBoard's distribution view and Ioffe &
/// Szegedy's Figure 1. One panel per start × activation, each on its own scale (a huge
/// start's values would flatten everyone else's): the median (line), the band from the
/// 15.87th to the 84.13th percentile (±1σ of a normal) and a paler one from the 6.68th to
/// the 93.32th (±1.5σ), over every unit and probe row, for the first seed.
pub fn quantiles(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(rows) = results.quantiles.as_deref() else {
        return Ok(None);
    };
    let Some(seed) = rows.iter().map(|r| r.run.seed).min() else {
        return Ok(None);
    };
    let output = rows.iter().map(|r| r.row.layer).max().unwrap_or(1);
    if output < 2 {
        return Ok(None);
    }
    let layer = output - 1;
    let rows: Vec<_> = rows
        .iter()
        .filter(|r| {
            r.run.seed == seed
                && r.row.unit.is_none()
                && r.row.quantity == Quantity::PreActivation
                && r.row.layer == layer
        })
        .collect();
    let (a, b) = chart::min_max(rows.iter().map(|r| r.row.epoch as f64)).unwrap_or((0.0, 1.0));
    let x = Axis::integers(a, b, "epoch (passes over the training set)");
    let cols = results.activations.len().max(1);
    let styles = styles(results);
    let pic = picture(
        "quantiles.svg",
        &format!("Layer {layer}'s pre-activations over training (percentiles, seed {seed})"),
        results.inits.len(),
        cols,
        (PANEL_W, PANEL_H - 60),
        |panels, side| {
            for (row, init) in results.inits.iter().enumerate() {
                let style = styles.get(init);
                for (col, act) in results.activations.iter().enumerate() {
                    let mut line: Vec<_> = rows
                        .iter()
                        .filter(|r| &r.run.init == init && &r.run.activation == act)
                        .map(|r| (r.row.epoch as f64, r.row.values()))
                        .collect();
                    line.sort_by(|p, q| p.0.total_cmp(&q.0));
                    let y = Axis::linear_fit(
                        line.iter()
                            .flat_map(|(_, v)| [v[1], v[7]])
                            .flatten()
                            .filter(|v| v.is_finite()),
                        (-1.0, 1.0),
                        "pre-activation z",
                    );
                    let mut ch =
                        chart::panel(&panels[row * cols + col], &format!("{act}: {init}"), &x, &y)?;
                    if line.is_empty() {
                        chart::note(&mut ch, &x, &y, "no rows")?;
                        continue;
                    }
                    let clamp = |v: Option<f64>| v.map(|v| v.clamp(y.lo, y.hi));
                    for ((lo, hi), alpha) in [((1, 7), 0.12), ((2, 6), 0.28)] {
                        let band: Vec<_> = line
                            .iter()
                            .map(|(e, v)| (*e, clamp(v[lo]), clamp(v[hi])))
                            .collect();
                        chart::band(&mut ch, &band, rgb(style.color), alpha)?;
                    }
                    let median: Vec<_> = line.iter().map(|(e, v)| (*e, clamp(v[4]))).collect();
                    chart::styled_line(&mut ch, &median, style, 2)?;
                }
            }
            let mut leg = init_legend(results, &results.inits);
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Heading("line: median".into()));
            leg.push(Legend::Band("15.87th–84.13th percentile".into()));
            leg.push(Legend::Band("6.68th–93.32th (paler)".into()));
            chart::legend(side, &leg)
        },
    )?;
    Ok(Some(pic))
}

/// `sweep.svg` (with a `[grid]` axis of at least three numbers): the final test accuracy
/// (train accuracy without a test set) against the swept setting, mean over seeds, one line
/// per start and value of the other axes, one panel per activation; a log x axis when the
/// values are positive and span two decades or more (a `logspace` axis).
pub fn sweep(results: &Results) -> anyhow::Result<Option<Picture>> {
    let Some(summary) = results.summary.as_deref() else {
        return Ok(None);
    };
    // The first axis whose values are all numbers, at least three of them.
    let numbers = |column: &str| -> Option<Vec<f64>> {
        let mut values: Vec<f64> = summary
            .iter()
            .map(|r| axis_value(&r.axes, column)?.parse::<f64>().ok())
            .collect::<Option<_>>()?;
        values.sort_by(f64::total_cmp);
        values.dedup();
        (values.len() >= 3).then_some(values)
    };
    let Some((column, values)) = results
        .axes
        .iter()
        .find_map(|c| numbers(c).map(|v| (c.clone(), v)))
    else {
        return Ok(None);
    };
    let test = summary.iter().any(|r| r.final_test_accuracy_mean.is_some());
    let accuracy = |r: &SummaryRow| {
        if test {
            r.final_test_accuracy_mean
        } else {
            r.final_train_accuracy_mean
        }
    };
    // A line: the start (its label without the axis values) and the other axes' values.
    let line_of = |r: &SummaryRow| {
        let start = r
            .init
            .strip_suffix(&point_label("", &r.axes))
            .unwrap_or(&r.init);
        let others: Vec<String> = r
            .axes
            .iter()
            .filter(|(c, _)| *c != column)
            .map(|(c, v)| format!("{c}={v}"))
            .collect();
        if others.is_empty() {
            start.to_string()
        } else {
            format!("{start} [{}]", others.join(", "))
        }
    };
    let mut lines: Vec<String> = Vec::new();
    for r in summary {
        let l = line_of(r);
        if !lines.contains(&l) {
            lines.push(l);
        }
    }
    let log = values[0] > 0.0 && values[values.len() - 1] / values[0] >= 100.0;
    let x = if log {
        Axis::log_fit(values.iter().copied(), &format!("{column} (log scale)"))
    } else {
        Axis::linear_fit(values.iter().copied(), (0.0, 1.0), &column)
    };
    let y = Axis::linear(
        0.0,
        100.0,
        if test {
            "final test accuracy (%)"
        } else {
            "final train accuracy (%)"
        },
    );
    let line_styles = Styles::new(&lines);
    let cols = results.activations.len().max(1);
    let pic = picture(
        "sweep.svg",
        &format!("Final accuracy against {column}"),
        1,
        cols,
        (PANEL_W + 60, PANEL_H),
        |panels, side| {
            for (col, act) in results.activations.iter().enumerate() {
                let mut ch = chart::panel(&panels[col], act, &x, &y)?;
                for line in &lines {
                    let mut pts: Vec<(f64, f64)> = summary
                        .iter()
                        .filter(|r| &r.activation == act && &line_of(r) == line)
                        .filter_map(|r| {
                            let v: f64 = axis_value(&r.axes, &column)?.parse().ok()?;
                            Some((x.map(v)?, accuracy(r)? * 100.0))
                        })
                        .collect();
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let style = line_styles.get(line);
                    let series: Vec<(f64, Option<f64>)> =
                        pts.iter().map(|&(a, b)| (a, Some(b))).collect();
                    chart::styled_line(&mut ch, &series, style, 2)?;
                    let c = rgb(style.color);
                    ch.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
                }
            }
            let mut leg = vec![Legend::Heading("start".into())];
            leg.extend(
                lines
                    .iter()
                    .map(|l| Legend::Start(l.clone(), line_styles.get(l))),
            );
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Heading("mean over seeds".into()));
            chart::legend(side, &leg)
        },
    )?;
    Ok(Some(pic))
}

/// Every picture that applies, in report order.
pub fn all(results: &Results) -> anyhow::Result<Vec<Picture>> {
    let drawers: [Drawer; 12] = [
        loss,
        accuracy,
        signal,
        super::blocks::blocks,
        saturation,
        update_ratio,
        sweep,
        super::transfer::transfer,
        super::drift::drift,
        quantiles,
        distributions,
        boundary,
    ];
    let mut out = Vec::new();
    for d in drawers {
        if let Some(p) = d(results)? {
            out.push(p);
        }
    }
    Ok(out)
}

/// `coord_check.svg`, in mup's layout: one panel per step (columns) and parametrization
/// (rows), log mean|x| against log width, one line per layer (the mean over seeds): its
/// pre-activations solid, its activations dashed, the logits in the darkest colour.
pub fn coord_check(rows: &[crate::coord_check::Row]) -> anyhow::Result<Picture> {
    let mut parametrizations: Vec<&str> = Vec::new();
    let mut lines: Vec<(usize, &str)> = Vec::new();
    for r in rows {
        if !parametrizations.contains(&r.parametrization.as_str()) {
            parametrizations.push(&r.parametrization);
        }
        if !lines.contains(&(r.layer, r.quantity.as_str())) {
            lines.push((r.layer, &r.quantity));
        }
    }
    let steps = rows.iter().map(|r| r.step).max().unwrap_or(0) + 1;
    let layers = lines.iter().map(|l| l.0).max().unwrap_or(1);
    let x = Axis::log_fit(rows.iter().map(|r| r.width as f64), "width (log scale)");
    let y = Axis::log_fit(rows.iter().map(|r| r.mean_abs), "mean |x| (log scale)");
    let mean = |p: &str, step: usize, line: (usize, &str), width: usize| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| {
                r.parametrization == p
                    && r.step == step
                    && r.layer == line.0
                    && r.quantity == line.1
                    && r.width == width
            })
            .map(|r| r.mean_abs)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let mut widths: Vec<usize> = rows.iter().map(|r| r.width).collect();
    widths.sort_unstable();
    widths.dedup();
    picture(
        "coord_check.svg",
        "Coordinate check: mean |x| of each layer against width, after each step",
        parametrizations.len(),
        steps,
        (PANEL_W - 60, PANEL_H - 20),
        |panels, side| {
            for (row, p) in parametrizations.iter().enumerate() {
                for step in 0..steps {
                    let caption = format!("{p}, step {step}");
                    let mut ch = chart::panel(&panels[row * steps + step], &caption, &x, &y)?;
                    for &line in &lines {
                        let color = depth_color(line.0, layers);
                        let style = crate::report::palette::Style {
                            color: crate::report::palette::Rgb(color.0, color.1, color.2),
                            dash: if line.1 == "activation" {
                                crate::report::palette::Dash::Dashed
                            } else {
                                crate::report::palette::Dash::Solid
                            },
                        };
                        let points: Vec<(f64, Option<f64>)> = widths
                            .iter()
                            .filter_map(|&w| {
                                let v = mean(p, step, line, w).filter(|v| *v > 0.0)?;
                                Some((x.map(w as f64)?, y.map(v)))
                            })
                            .collect();
                        chart::styled_line(&mut ch, &points, style, 2)?;
                    }
                }
            }
            let mut leg = vec![Legend::Heading("layer".into())];
            for &(layer, quantity) in &lines {
                if quantity != "activation" {
                    let name = if quantity == "logits" {
                        format!("{layer} logits")
                    } else {
                        format!("{layer} pre-activation")
                    };
                    leg.push(Legend::Line(name, depth_color(layer, layers)));
                }
            }
            leg.push(Legend::Dashed("activation (after f)".into()));
            leg.push(Legend::Heading("".into()));
            leg.push(Legend::Heading("mean over seeds".into()));
            chart::legend(side, &leg)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_class_names_are_cut_for_the_legend() {
        assert_eq!(legend_name("setosa"), "setosa");
        assert_eq!(legend_name("exactly-16-chars"), "exactly-16-chars");
        assert_eq!(legend_name("iris-versicolor-long"), "iris-versicolor…");
        assert_eq!(legend_name("ééééééééééééééééé").chars().count(), 16);
    }

    #[test]
    fn edges_surround_cells() {
        assert_eq!(edges(&[0.0, 1.0, 2.0]), vec![-0.5, 0.5, 1.5, 2.5]);
        assert_eq!(edges(&[3.0]), vec![2.5, 3.5]);
    }

    #[test]
    fn nearest_index() {
        let v = [0.0, 1.0, 2.0];
        assert_eq!(index_of(&v, 1.0), 1);
        assert_eq!(index_of(&v, 1.4), 1);
        assert_eq!(index_of(&v, 1.6), 2);
        assert_eq!(index_of(&v, 9.0), 2);
        assert_eq!(index_of(&v, -9.0), 0);
    }

    #[test]
    fn bin_ticks_are_round_numbers() {
        // tanh outputs: 40 linear bins over [−1, 1] (the explorer read −0.65, −0.3, 0.05, 0.4).
        let linear: Vec<(f64, f64)> = (0..40)
            .map(|k| (-1.0 + 0.05 * k as f64, -1.0 + 0.05 * (k + 1) as f64))
            .collect();
        let t = bin_ticks(&linear);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["-1", "-0.5", "0", "0.5", "1"]);
        let pos: Vec<f64> = t.iter().map(|(p, _)| (p * 1e6).round() / 1e6).collect();
        assert_eq!(pos, [-0.5, 9.5, 19.5, 29.5, 39.5]);
        // Only part of [0, 1] occupied (sigmoid): ticks inside, round.
        let part: Vec<(f64, f64)> = (8..14)
            .map(|k| (0.025 * k as f64, 0.025 * (k + 1) as f64))
            .collect();
        let labels: Vec<String> = bin_ticks(&part).into_iter().map(|(_, l)| l).collect();
        assert_eq!(labels, ["0.2", "0.25", "0.3", "0.35"]);
        // Signed log bins, 4 per decade from 1e-9 to 1e3, with the zero bin: 0 and decades
        // every 5, at most seven labels.
        let mut log = vec![(f64::NEG_INFINITY, -1e3)];
        let edges: Vec<f64> = (0..=48)
            .map(|k| 10f64.powf(-9.0 + k as f64 / 4.0))
            .collect();
        for w in edges.windows(2).rev() {
            log.push((-w[1], -w[0]));
        }
        log.push((0.0, 0.0));
        for w in edges.windows(2) {
            log.push((w[0], w[1]));
        }
        let labels: Vec<String> = bin_ticks(&log).into_iter().map(|(_, l)| l).collect();
        assert_eq!(labels, ["-1", "-1e-5", "0", "1e-5", "1"]);
        // Gradients between 1e-6 and 1e-2 on both sides: every second decade.
        let narrow: Vec<(f64, f64)> = log
            .iter()
            .copied()
            .filter(|(a, b)| {
                (*a == 0.0 && *b == 0.0)
                    || (a.abs().min(b.abs()) >= 1e-6 && a.abs().max(b.abs()) <= 1e-2)
            })
            .collect();
        let labels: Vec<String> = bin_ticks(&narrow).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            labels,
            ["-0.01", "-1e-4", "-1e-6", "0", "1e-6", "1e-4", "0.01"]
        );
    }

    #[test]
    fn picks_at_most_four_layers() {
        assert_eq!(pick_layers(&[1, 2, 3]), vec![1, 2, 3]);
        assert_eq!(
            pick_layers(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            vec![1, 4, 7, 10]
        );
    }
}
