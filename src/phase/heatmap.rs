//! A minimal SVG heat map with overlaid curves and labelled points, for the phase diagrams.

use std::fmt::Write as _;

/// A heat map: `values[iy][ix]` over the cell centres `xs` × `ys`, colours scaled from
/// `range.0` (dark) to `range.1` (bright); `None` cells are grey.
pub struct HeatMap<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// X axis label.
    pub x_label: &'a str,
    /// Y axis label.
    pub y_label: &'a str,
    /// Cell centres along x, ascending.
    pub xs: &'a [f64],
    /// Cell centres along y, ascending.
    pub ys: &'a [f64],
    /// One row per y.
    pub values: &'a [Vec<Option<f64>>],
    /// The colour scale's ends.
    pub range: (f64, f64),
    /// Curves drawn over the map, each a list of (x, y) points and a label.
    pub curves: Vec<(String, Vec<(f64, f64)>)>,
    /// Labelled points.
    pub points: Vec<(String, f64, f64)>,
}

/// A colour from dark blue (t = 0) through teal to yellow (t = 1).
fn colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let stops = [
        (0.0, [48, 18, 59]),
        (0.35, [33, 145, 140]),
        (0.7, [94, 201, 98]),
        (1.0, [253, 231, 37]),
    ];
    let mut i = 0;
    while i + 2 < stops.len() && t > stops[i + 1].0 {
        i += 1;
    }
    let (t0, c0) = stops[i];
    let (t1, c1) = stops[i + 1];
    let f = ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
    let mix = |a: i32, b: i32| (a as f64 + f * (b - a) as f64).round() as i32;
    format!(
        "rgb({},{},{})",
        mix(c0[0], c1[0]),
        mix(c0[1], c1[1]),
        mix(c0[2], c1[2])
    )
}

impl HeatMap<'_> {
    /// The SVG document.
    pub fn svg(&self) -> String {
        let (w, h, left, top, right, bottom) = (640.0, 480.0, 70.0, 40.0, 150.0, 50.0);
        let (pw, ph) = (w - left - right, h - top - bottom);
        let half = |v: &[f64], i: usize| {
            if v.len() < 2 {
                0.5
            } else if i + 1 < v.len() {
                (v[i + 1] - v[i]) / 2.0
            } else {
                (v[i] - v[i - 1]) / 2.0
            }
        };
        let x0 = self.xs[0] - half(self.xs, 0);
        let x1 = self.xs[self.xs.len() - 1] + half(self.xs, self.xs.len() - 1);
        let y0 = self.ys[0] - half(self.ys, 0);
        let y1 = self.ys[self.ys.len() - 1] + half(self.ys, self.ys.len() - 1);
        let px = |x: f64| left + (x - x0) / (x1 - x0) * pw;
        let py = |y: f64| top + ph - (y - y0) / (y1 - y0) * ph;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{}</text>",
            left + pw / 2.0,
            self.title
        );
        for (iy, row) in self.values.iter().enumerate() {
            for (ix, v) in row.iter().enumerate() {
                let (cx, cy) = (self.xs[ix], self.ys[iy]);
                let (hx, hy) = (half(self.xs, ix), half(self.ys, iy));
                let fill = match v {
                    Some(v) => colour((v - self.range.0) / (self.range.1 - self.range.0)),
                    None => "rgb(200,200,200)".into(),
                };
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{fill}\"/>",
                    px(cx - hx),
                    py(cy + hy),
                    px(cx + hx) - px(cx - hx) + 0.3,
                    py(cy - hy) - py(cy + hy) + 0.3
                );
            }
        }
        let dashes = ["", "6,4", "2,3"];
        for (k, (label, pts)) in self.curves.iter().enumerate() {
            let path: Vec<String> = pts
                .iter()
                .filter(|(x, y)| (x0..=x1).contains(x) && (y0..=y1).contains(y))
                .map(|(x, y)| format!("{:.2},{:.2}", px(*x), py(*y)))
                .collect();
            let _ = writeln!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"white\" stroke-width=\"2.5\" stroke-dasharray=\"{}\"/>",
                path.join(" "),
                dashes[k % dashes.len()]
            );
            let ly = top + 20.0 + 18.0 * k as f64;
            let _ = writeln!(
                s,
                "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"black\" stroke-width=\"2\" stroke-dasharray=\"{}\"/>",
                w - right + 10.0,
                w - right + 35.0,
                dashes[k % dashes.len()]
            );
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\">{label}</text>",
                w - right + 40.0,
                ly + 4.0
            );
        }
        for (label, x, y) in &self.points {
            if !((x0..=x1).contains(x) && (y0..=y1).contains(y)) {
                continue;
            }
            let _ = writeln!(
                s,
                "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"4\" fill=\"red\" stroke=\"white\"/>",
                px(*x),
                py(*y)
            );
            let _ = writeln!(
                s,
                "<text x=\"{:.2}\" y=\"{:.2}\" fill=\"white\" font-size=\"11\">{label}</text>",
                px(*x) + 6.0,
                py(*y) - 6.0
            );
        }
        // Axes: ticks at the first, middle and last cell centres.
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"black\"/>"
        );
        for v in [
            self.xs[0],
            self.xs[self.xs.len() / 2],
            self.xs[self.xs.len() - 1],
        ] {
            let _ = writeln!(
                s,
                "<text x=\"{:.2}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                px(v),
                top + ph + 16.0,
                tick(v)
            );
        }
        for v in [
            self.ys[0],
            self.ys[self.ys.len() / 2],
            self.ys[self.ys.len() - 1],
        ] {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{:.2}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                py(v) + 4.0,
                tick(v)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            left + pw / 2.0,
            h - 12.0,
            self.x_label
        );
        let _ = writeln!(
            s,
            "<text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">{}</text>",
            top + ph / 2.0,
            top + ph / 2.0,
            self.y_label
        );
        // Colour bar.
        for k in 0..50 {
            let t = k as f64 / 49.0;
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{:.2}\" width=\"14\" height=\"{:.2}\" fill=\"{}\"/>",
                w - right + 10.0,
                top + ph - (k + 1) as f64 * ph / 50.0 * 0.6,
                ph / 50.0 * 0.6 + 0.5,
                colour(t)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            w - right + 28.0,
            top + ph,
            tick(self.range.0)
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            w - right + 28.0,
            top + ph * 0.4 + 8.0,
            tick(self.range.1)
        );
        s.push_str("</svg>\n");
        s
    }
}

fn tick(v: f64) -> String {
    let t = format!("{v:.3}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}
