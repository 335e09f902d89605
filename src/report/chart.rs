//! Drawing helpers shared by the pictures: axes with chosen ticks (log axes are drawn as
//! linear axes over log10 of the data), panels, lines with gaps, bands and the legend.

use plotters::coord::Shift;
use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette::{Dash, Rgb, Style};

/// Font family of every text in the pictures.
pub const FONT: &str = "sans-serif";
/// Width of the legend column on the right of every picture.
pub const LEGEND_W: u32 = 220;
/// At most this many points are drawn per line (longer series are thinned).
pub const MAX_POINTS: usize = 400;

/// The drawing area type of the SVG backend.
pub type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;
/// The coordinate system of every panel.
pub type Coord = Cartesian2d<Ticked, Ticked>;
/// A panel's chart.
pub type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Coord>;

/// Converts a palette colour.
pub fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// A linear coordinate whose grid lines and labels go exactly at the chosen ticks.
#[derive(Debug, Clone)]
pub struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        (f64::from(limit.0) + t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// One axis: its range (in drawing units: log10 of the data for log axes), tick
/// positions and label.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Where ticks and grid lines go.
    pub ticks: Vec<f64>,
    /// Whether the data are drawn as log10.
    pub log: bool,
    /// The axis description (with units).
    pub label: String,
    /// Tick labels given by hand (position, text), e.g. bin edges on a histogram's
    /// axis of bin positions; ticks not listed are labelled by their value.
    pub names: Vec<(f64, String)>,
}

impl Axis {
    /// A linear axis over `[lo, hi]` with about five round ticks ([`nice_ticks`]).
    pub fn linear(lo: f64, hi: f64, label: &str) -> Axis {
        let (lo, hi) = if hi > lo && lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else if lo.is_finite() {
            (lo - 1.0, lo + 1.0)
        } else {
            (0.0, 1.0)
        };
        let ticks = nice_ticks(lo, hi, 5, 0.0);
        Axis {
            lo,
            hi,
            ticks,
            log: false,
            label: label.to_string(),
            names: Vec::new(),
        }
    }

    /// A linear axis fitted to the finite values, padded by 5 %; `fallback` if none.
    pub fn linear_fit(
        values: impl IntoIterator<Item = f64>,
        fallback: (f64, f64),
        label: &str,
    ) -> Axis {
        match min_max(values.into_iter().filter(|v| v.is_finite())) {
            Some((a, b)) => {
                let pad = if b > a { (b - a) * 0.05 } else { 0.5 };
                Axis::linear(a - pad, b + pad, label)
            }
            None => Axis::linear(fallback.0, fallback.1, label),
        }
    }

    /// A log axis fitted to the positive finite values (others are ignored), from a whole
    /// decade to a whole decade, ticks every 1, 2, 5, … decades; 1e-3..1 if there are none.
    pub fn log_fit(values: impl IntoIterator<Item = f64>, label: &str) -> Axis {
        let logs = values
            .into_iter()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(f64::log10);
        let (a, b) = min_max(logs).unwrap_or((-3.0, 0.0));
        let mut lo = (a - 0.02).floor();
        let mut hi = (b + 0.02).ceil();
        if hi <= lo {
            lo -= 1.0;
            hi += 1.0;
        }
        // Whole decades, every 1, 2, 5, 10, … of them.
        let ticks = nice_ticks(lo, hi, 6, 1.0);
        Axis {
            lo,
            hi,
            ticks,
            log: true,
            label: label.to_string(),
            names: Vec::new(),
        }
    }

    /// An axis of whole numbers `first..=last` (layers, epochs), ticks at round numbers.
    pub fn integers(first: f64, last: f64, label: &str) -> Axis {
        let span = (last - first).max(1.0);
        let mut axis = Axis::linear(first, first + span, label);
        axis.ticks = nice_ticks(first, first + span, 5, 1.0);
        let pad = span * 0.04;
        axis.lo = first - pad;
        axis.hi = first + span + pad;
        axis
    }

    /// The plotters coordinate of this axis.
    pub fn coord(&self) -> Ticked {
        Ticked {
            lo: self.lo,
            hi: self.hi,
            ticks: self.ticks.clone(),
        }
    }

    /// Where a data value goes on this axis; `None` if it cannot be drawn (non-finite, or
    /// not positive on a log axis).
    pub fn map(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            None
        } else if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }

    /// Keeps a drawing-unit value inside the axis.
    pub fn clamp(&self, v: f64) -> f64 {
        v.clamp(self.lo, self.hi)
    }

    /// The label of a tick at drawing-unit position `v`.
    pub fn tick_label(&self, v: f64) -> String {
        if let Some((_, name)) = self.names.iter().find(|(p, _)| (p - v).abs() < 1e-9) {
            return name.clone();
        }
        if self.log {
            let e = v.round() as i32;
            if (v - f64::from(e)).abs() < 1e-6 {
                return match e {
                    0 => "1".to_string(),
                    1 => "10".to_string(),
                    2 => "100".to_string(),
                    -1 => "0.1".to_string(),
                    -2 => "0.01".to_string(),
                    _ => format!("1e{e}"),
                };
            }
            return fmt_num(10f64.powf(v));
        }
        fmt_num(v)
    }
}

/// The "nice" tick step for about `target` intervals over `span`: the smallest of
/// 1, 2, 5 × 10^k that is at least `span / target` (Heckbert's nice numbers), and at least
/// `min_step` when that is positive.
pub fn nice_step(span: f64, target: usize, min_step: f64) -> f64 {
    let (mantissa, exponent) = nice_step_parts(span, target);
    let step = mantissa as f64 * 10f64.powi(exponent);
    if min_step > 0.0 && step < min_step {
        min_step
    } else {
        step
    }
}

/// [`nice_step`] as 1, 2 or 5 and the power of ten.
fn nice_step_parts(span: f64, target: usize) -> (i64, i32) {
    let raw = if span.is_finite() && span > 0.0 {
        span / target.max(1) as f64
    } else {
        1.0
    };
    let mut exponent = raw.log10().floor() as i32;
    for _ in 0..2 {
        for m in [1, 2, 5] {
            if m as f64 * 10f64.powi(exponent) >= raw * (1.0 - 1e-9) {
                return (m, exponent);
            }
        }
        exponent += 1;
    }
    (1, exponent)
}

/// The multiples of the [`nice_step`] for about `target` intervals that lie in `[lo, hi]`,
/// computed as whole multiples (no accumulated rounding: 0.1 × 3 is 0.3).
pub fn nice_ticks(lo: f64, hi: f64, target: usize, min_step: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return Vec::new();
    }
    let (mut m, mut e) = nice_step_parts(hi - lo, target);
    if min_step > 0.0 && (m as f64) * 10f64.powi(e) < min_step {
        // A step of whole units (decades, layers): the nice step of at least `min_step`.
        (m, e) = nice_step_parts(min_step, 1);
    }
    let at = |i: i64| {
        if e < 0 {
            (i * m) as f64 / 10f64.powi(-e)
        } else {
            (i * m) as f64 * 10f64.powi(e)
        }
    };
    let step = at(1);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.min(first + 200))
        .map(|i| if i == 0 { 0.0 } else { at(i) })
        .collect()
}

/// A compact number: up to 4 significant digits, no trailing zeros, scientific when tiny
/// or huge.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        // 1.50e-4 -> 1.5e-4
        if let Some((m, e)) = s.split_once('e') {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            return format!("{m}e{e}");
        }
        return s;
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Plotters' SVG backend has no dash patterns, so a dashed line is drawn with a coded
/// stroke width, `width + DASH_CODE × (pattern's index in [`Dash::ALL`])`, that [`compact`]
/// turns back into `stroke-width` and `stroke-dasharray`: one `<polyline>` per line, not
/// one per dash.
const DASH_CODE: u32 = 1000;

/// The stroke of a line of `style` and `width` pixels (see `DASH_CODE`).
pub fn stroke(style: Style, width: u32) -> ShapeStyle {
    rgb(style.color).stroke_width(width + DASH_CODE * style.dash.index() as u32)
}

/// Shrinks plotters' SVG output: drops attributes that only restate SVG defaults and
/// rounds font sizes to one decimal; writes the dash patterns of coded stroke widths
/// (`DASH_CODE`).
pub fn compact(svg: &str) -> String {
    let s = svg
        .replace(" opacity=\"1\"", "")
        .replace(" stroke=\"none\" stroke-width=\"1\"", " stroke=\"none\"");
    let s = rewrite_attr(&s, "font-size", |v| {
        let v = v.parse::<f64>().ok()?;
        Some(format!("font-size=\"{}\"", (v * 10.0).round() / 10.0))
    });
    rewrite_attr(&s, "stroke-width", |v| {
        let coded = v.parse::<u32>().ok().filter(|c| *c >= DASH_CODE)?;
        let dash = Dash::ALL.get((coded / DASH_CODE) as usize)?;
        let width = coded % DASH_CODE;
        Some(match dash.dasharray() {
            Some(a) => format!("stroke-width=\"{width}\" stroke-dasharray=\"{a}\""),
            None => format!("stroke-width=\"{width}\""),
        })
    })
}

/// Replaces each `key="value"` attribute for which `f(value)` gives a replacement.
fn rewrite_attr(s: &str, key: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let open = format!(" {key}=\"");
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(&open) {
        let start = i + open.len();
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        match f(&rest[start..end]) {
            Some(attr) => {
                out.push_str(&rest[..=i]);
                out.push_str(&attr);
                rest = &rest[(end + 1).min(rest.len())..];
            }
            None => {
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Smallest and largest of the values.
pub fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

/// Mean, min and max of the finite values; `None` if there are none.
pub fn stats(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64, f64)> {
    let (mut n, mut sum, mut lo, mut hi) = (0usize, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        n += 1;
        sum += v;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (n > 0).then(|| (sum / n as f64, lo, hi))
}

/// Indices to keep so that at most [`MAX_POINTS`] remain, evenly spread, first and last kept.
pub fn thin(n: usize) -> Vec<usize> {
    if n <= MAX_POINTS {
        return (0..n).collect();
    }
    let mut out: Vec<usize> = (0..MAX_POINTS)
        .map(|i| ((i as f64) * (n - 1) as f64 / (MAX_POINTS - 1) as f64).round() as usize)
        .collect();
    out.dedup();
    out
}

/// Builds a panel with its caption, axes, grid and tick labels.
pub fn panel<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    x: &Axis,
    y: &Axis,
) -> anyhow::Result<Chart<'a, 'b>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 18))
        .margin(6)
        .margin_right(14)
        .x_label_area_size(46)
        .y_label_area_size(66)
        .build_cartesian_2d(x.coord(), y.coord())?;
    let xf = |v: &f64| x.tick_label(*v);
    let yf = |v: &f64| y.tick_label(*v);
    chart
        .configure_mesh()
        .x_desc(x.label.as_str())
        .y_desc(y.label.as_str())
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .bold_line_style(RGBColor(228, 228, 228))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(120, 120, 120))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    Ok(chart)
}

/// Writes a grey note in the middle of a panel (e.g. "not applicable").
pub fn note(chart: &mut Chart, x: &Axis, y: &Axis, text: &str) -> anyhow::Result<()> {
    let style = TextStyle::from((FONT, 16).into_font())
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    chart.draw_series(std::iter::once(Text::new(
        text.to_string(),
        ((x.lo + x.hi) / 2.0, (y.lo + y.hi) / 2.0),
        style,
    )))?;
    Ok(())
}

/// Draws a line through the points that have a y value, broken where one is missing,
/// thinned to at most [`MAX_POINTS`] points. `points` are in drawing units.
pub fn line(
    chart: &mut Chart,
    points: &[(f64, Option<f64>)],
    color: RGBColor,
    width: u32,
) -> anyhow::Result<()> {
    let solid = Style {
        color: Rgb(color.0, color.1, color.2),
        dash: Dash::Solid,
    };
    styled_line(chart, points, solid, width)
}

/// [`line()`] in a start's colour and dash pattern.
pub fn styled_line(
    chart: &mut Chart,
    points: &[(f64, Option<f64>)],
    style: Style,
    width: u32,
) -> anyhow::Result<()> {
    let kept = thin(points.len());
    let mut segment: Vec<(f64, f64)> = Vec::new();
    let line_style = stroke(style, width);
    let dot = rgb(style.color).filled();
    let flush = |seg: &mut Vec<(f64, f64)>, chart: &mut Chart| -> anyhow::Result<()> {
        if seg.len() >= 2 {
            chart.draw_series(LineSeries::new(seg.drain(..), line_style))?;
        } else if seg.len() == 1 {
            chart.draw_series(seg.drain(..).map(|p| Circle::new(p, 2, dot)))?;
        }
        Ok(())
    };
    for &i in &kept {
        match points[i] {
            (x, Some(y)) => segment.push((x, y)),
            (_, None) => flush(&mut segment, chart)?,
        }
    }
    flush(&mut segment, chart)
}

/// Draws a filled band between `lo` and `hi` (drawing units) where both exist.
pub fn band(
    chart: &mut Chart,
    points: &[(f64, Option<f64>, Option<f64>)],
    color: RGBColor,
    opacity: f64,
) -> anyhow::Result<()> {
    let kept = thin(points.len());
    let mut seg: Vec<(f64, f64, f64)> = Vec::new();
    let fill = color.mix(opacity).filled();
    let flush = |seg: &mut Vec<(f64, f64, f64)>, chart: &mut Chart| -> anyhow::Result<()> {
        if seg.len() >= 2 && seg.iter().any(|(_, a, b)| b > a) {
            let mut poly: Vec<(f64, f64)> = seg.iter().map(|(x, _, b)| (*x, *b)).collect();
            poly.extend(seg.iter().rev().map(|(x, a, _)| (*x, *a)));
            chart.draw_series(std::iter::once(Polygon::new(poly, fill)))?;
        }
        seg.clear();
        Ok(())
    };
    for &i in &kept {
        match points[i] {
            (x, Some(a), Some(b)) => seg.push((x, a, b)),
            _ => flush(&mut seg, chart)?,
        }
    }
    flush(&mut seg, chart)
}

/// One entry of a legend.
pub enum Legend {
    /// A coloured line and a name.
    Line(String, RGBColor),
    /// A start's line (colour and dash pattern) and its name.
    Start(String, Style),
    /// A light band and what it means.
    Band(String),
    /// A cross marker and what it means.
    Cross(String),
    /// A hollow circle and what it means.
    Hollow(String),
    /// A dashed line and what it means.
    Dashed(String),
    /// A filled square of a colour and what it means.
    Swatch(String, RGBColor),
    /// A heading.
    Heading(String),
}

/// Draws the legend entries from the top of `area`.
pub fn legend(area: &Area, entries: &[Legend]) -> anyhow::Result<()> {
    let text = |s: &str, x: i32, y: i32, bold: bool| {
        let font = if bold {
            (FONT, 16).into_font().style(FontStyle::Bold)
        } else {
            (FONT, 16).into_font()
        };
        Text::new(
            s.to_string(),
            (x, y),
            TextStyle::from(font)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )
    };
    let grey = RGBColor(90, 90, 90);
    for (i, entry) in entries.iter().enumerate() {
        let y = 20 + 21 * i as i32;
        match entry {
            Legend::Heading(s) => area.draw(&text(s, 8, y, true))?,
            Legend::Line(s, c) => {
                area.draw(&PathElement::new(vec![(8, y), (34, y)], c.stroke_width(3)))?;
                area.draw(&text(s, 42, y, false))?;
            }
            Legend::Start(s, style) => {
                area.draw(&PathElement::new(vec![(8, y), (34, y)], stroke(*style, 3)))?;
                area.draw(&text(s, 42, y, false))?;
            }
            Legend::Band(s) => {
                area.draw(&Rectangle::new(
                    [(8, y - 6), (34, y + 6)],
                    grey.mix(0.2).filled(),
                ))?;
                area.draw(&text(s, 42, y, false))?;
            }
            Legend::Cross(s) => {
                area.draw(&Cross::new((21, y), 5, grey.stroke_width(2)))?;
                area.draw(&text(s, 42, y, false))?;
            }
            Legend::Hollow(s) => {
                area.draw(&Circle::new((21, y), 4, grey.stroke_width(2)))?;
                area.draw(&text(s, 42, y, false))?;
            }
            Legend::Dashed(s) => {
                for k in 0..3 {
                    let x0 = 8 + 10 * k;
                    area.draw(&PathElement::new(
                        vec![(x0, y), (x0 + 6, y)],
                        grey.stroke_width(2),
                    ))?;
                }
                area.draw(&text(s, 42, y, false))?;
            }
            Legend::Swatch(s, c) => {
                area.draw(&Rectangle::new([(8, y - 7), (34, y + 7)], c.filled()))?;
                area.draw(&text(s, 42, y, false))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_ignores_non_positive_and_non_finite() {
        let a = Axis::log_fit([0.0, -1.0, f64::NAN, f64::INFINITY, 0.02, 3.0], "y");
        assert_eq!((a.lo, a.hi), (-2.0, 1.0));
        assert_eq!(a.map(0.0), None);
        assert_eq!(a.map(-5.0), None);
        assert_eq!(a.map(100.0), Some(2.0));
        let empty = Axis::log_fit([0.0, f64::NAN], "y");
        assert!(empty.lo < empty.hi);
    }

    #[test]
    fn linear_ticks_are_round() {
        let a = Axis::linear(0.0, 100.0, "y");
        assert_eq!(a.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let d = Axis::linear(3.0, 3.0, "y");
        assert!(d.lo < d.hi);
    }

    /// Whether `ticks` are the multiples of one step of 1, 2 or 5 × 10^k.
    fn round_and_even(ticks: &[f64]) -> bool {
        let step = ticks[1] - ticks[0];
        let k = step.log10().floor();
        let m = step / 10f64.powf(k);
        // Loose tolerances: `step` is itself a difference of rounded values.
        [1.0, 2.0, 5.0, 10.0].iter().any(|c| (m - c).abs() < 1e-6)
            && ticks
                .iter()
                .all(|t| ((t / step) - (t / step).round()).abs() < 1e-6)
            && ticks
                .windows(2)
                .all(|w| ((w[1] - w[0]) - step).abs() < 1e-6 * step)
    }

    #[test]
    fn nice_ticks_are_multiples_of_1_2_5_times_a_power_of_ten() {
        // The histogram axis of the issue: −0.65, −0.3, 0.05, 0.4 becomes halves.
        assert_eq!(
            nice_ticks(-1.0, 1.0, 5, 0.0),
            vec![-1.0, -0.5, 0.0, 0.5, 1.0]
        );
        assert_eq!(
            nice_ticks(0.0, 1.0, 5, 0.0),
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        );
        // Exact decimals, no accumulated error (0.1 + 0.1 + 0.1 ≠ 0.3).
        assert_eq!(nice_ticks(0.0, 0.3, 3, 0.0), vec![0.0, 0.1, 0.2, 0.3]);
        assert_eq!(nice_ticks(0.0, 0.3, 3, 0.0)[3].to_string(), "0.3");
        assert_eq!(
            nice_ticks(-0.013, 0.037, 5, 0.0),
            vec![-0.01, 0.0, 0.01, 0.02, 0.03]
        );
        assert_eq!(nice_ticks(17.0, 1234.0, 5, 0.0), vec![500.0, 1000.0]);
        assert_eq!(nice_step(7.0, 5, 0.0), 2.0);
        assert_eq!(nice_step(1.0, 5, 0.0), 0.2);
        assert_eq!(nice_step(2.5, 5, 0.0), 0.5);
        assert_eq!(nice_step(0.2, 5, 1.0), 1.0);
        // Whole units: layers and decades never get fractional steps.
        assert_eq!(nice_ticks(1.0, 4.0, 8, 1.0), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            nice_ticks(-9.0, 3.0, 6, 1.0),
            vec![-8.0, -6.0, -4.0, -2.0, 0.0, 2.0]
        );
        assert_eq!(nice_ticks(f64::NAN, 1.0, 5, 0.0), Vec::<f64>::new());
        // Over many ranges: evenly spaced, round, inside, and about the asked number.
        let mut x = 0.37_f64;
        for _ in 0..2000 {
            x = (x * 9301.0 + 49297.0) % 233280.0;
            // Spans from 1e-7 to 7e5, starting up to 50 spans away from 0.
            let span = (x.sqrt() % 7.0 + 0.01) * 10f64.powi((x as i32 % 11) - 5);
            let lo = (x / 233280.0 - 0.5) * span * 10f64.powi(x as i32 % 3);
            let hi = lo + span;
            let t = nice_ticks(lo, hi, 5, 0.0);
            assert!((2..=11).contains(&t.len()), "{lo}..{hi}: {t:?}");
            assert!(round_and_even(&t), "{lo}..{hi}: {t:?}");
            let eps = 1e-9 * (hi - lo);
            assert!(t[0] >= lo - eps && *t.last().unwrap() <= hi + eps);
        }
    }

    #[test]
    fn every_axis_kind_has_round_ticks() {
        for (lo, hi) in [(0.0, 1.0), (-0.73, 0.41), (0.5, 61.0), (-4.2, -2.9)] {
            assert!(
                round_and_even(&Axis::linear(lo, hi, "").ticks),
                "{lo}..{hi}"
            );
        }
        let fit = Axis::linear_fit([0.013, std::f64::consts::LN_2], (0.0, 1.0), "");
        assert!(round_and_even(&fit.ticks), "{:?}", fit.ticks);
        assert_eq!(
            Axis::integers(0.0, 2000.0, "").ticks,
            [0.0, 500.0, 1000.0, 1500.0, 2000.0]
        );
        assert_eq!(
            Axis::integers(1.0, 6.0, "").ticks,
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        assert_eq!(Axis::integers(1.0, 31.0, "").ticks, [10.0, 20.0, 30.0]);
        // Log axes: whole decades, every 1, 2 or 5 of them.
        assert_eq!(Axis::log_fit([0.02, 3.0], "").ticks, [-2.0, -1.0, 0.0, 1.0]);
        assert_eq!(Axis::log_fit([1e-9, 1e3], "").ticks, [-10.0, -5.0, 0.0]);
    }

    #[test]
    fn thinning_keeps_ends_and_bounds_count() {
        let k = thin(5000);
        assert!(k.len() <= MAX_POINTS);
        assert_eq!(k[0], 0);
        assert_eq!(*k.last().unwrap(), 4999);
        assert_eq!(thin(3), vec![0, 1, 2]);
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(0.000123), "1.23e-4");
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(0.61234), "0.6123");
        assert_eq!(Axis::log_fit([0.01, 10.0], "").tick_label(-2.0), "0.01");
    }

    #[test]
    fn compact_drops_defaults_and_rounds_font_sizes() {
        let svg = r#"<text font-size="10.483870967741936" opacity="1">a</text><circle opacity="0.5" stroke="none" stroke-width="1"/>"#;
        assert_eq!(
            compact(svg),
            r#"<text font-size="10.5">a</text><circle opacity="0.5" stroke="none"/>"#
        );
    }

    #[test]
    fn coded_stroke_widths_become_dash_patterns() {
        use crate::report::palette::BLUE;
        let dashed = stroke(
            Style {
                color: BLUE,
                dash: Dash::Dashed,
            },
            2,
        );
        assert_eq!(dashed.stroke_width, 1002);
        let svg = r##"<polyline fill="none" stroke="#0072B2" stroke-width="1002" points="1,2 3,4 "/><polyline stroke-width="2" points=""/><polyline stroke-width="3003"/>"##;
        assert_eq!(
            compact(svg),
            r##"<polyline fill="none" stroke="#0072B2" stroke-width="2" stroke-dasharray="9 4" points="1,2 3,4 "/><polyline stroke-width="2" points=""/><polyline stroke-width="3" stroke-dasharray="9 3 2 3"/>"##
        );
    }

    #[test]
    fn stats_skip_non_finite() {
        assert_eq!(stats([1.0, f64::NAN, 3.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(stats([f64::INFINITY]), None);
    }
}
