//! Drawing helpers shared by the pictures: axes with chosen ticks (log axes are drawn as
//! linear axes over log10 of the data), panels, lines with gaps, bands and the legend.

use plotters::coord::Shift;
use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette::Rgb;

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
    /// A linear axis over `[lo, hi]` with about five round ticks.
    pub fn linear(lo: f64, hi: f64, label: &str) -> Axis {
        let (lo, hi) = if hi > lo && lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else if lo.is_finite() {
            (lo - 1.0, lo + 1.0)
        } else {
            (0.0, 1.0)
        };
        let raw = (hi - lo) / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        let mut ticks = Vec::new();
        let mut t = (lo / step).ceil() * step;
        while t <= hi + step * 1e-9 && ticks.len() < 50 {
            ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
            t += step;
        }
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
    /// decade to a whole decade; 1e-3..1 if there are none.
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
        let step = ((hi - lo) / 6.0).ceil().max(1.0);
        let mut ticks = Vec::new();
        let mut t = lo;
        while t <= hi + 1e-9 {
            ticks.push(t);
            t += step;
        }
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
        if span <= 10.0 {
            axis.ticks = (0..=span as i64).map(|i| first + i as f64).collect();
        } else {
            axis.ticks.retain(|t| t.fract() == 0.0);
        }
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

/// Shrinks plotters' SVG output: drops attributes that only restate SVG defaults and
/// rounds font sizes to one decimal.
pub fn compact(svg: &str) -> String {
    let s = svg
        .replace(" opacity=\"1\"", "")
        .replace(" stroke=\"none\" stroke-width=\"1\"", " stroke=\"none\"");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    const KEY: &str = "font-size=\"";
    while let Some(i) = rest.find(KEY) {
        let start = i + KEY.len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        match rest[start..end].parse::<f64>() {
            Ok(v) => out.push_str(&format!("{}", (v * 10.0).round() / 10.0)),
            Err(_) => out.push_str(&rest[start..end]),
        }
        rest = &rest[end..];
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
    let kept = thin(points.len());
    let mut segment: Vec<(f64, f64)> = Vec::new();
    let style = color.stroke_width(width);
    let flush = |seg: &mut Vec<(f64, f64)>, chart: &mut Chart| -> anyhow::Result<()> {
        if seg.len() >= 2 {
            chart.draw_series(LineSeries::new(seg.drain(..), style))?;
        } else if seg.len() == 1 {
            chart.draw_series(seg.drain(..).map(|p| Circle::new(p, 2, style.filled())))?;
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
    fn stats_skip_non_finite() {
        assert_eq!(stats([1.0, f64::NAN, 3.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(stats([f64::INFINITY]), None);
    }
}
