//! The self-contained `report.html`: inline CSS and SVG and, when there are histograms, the
//! explorer's embedded data and script ([`super::interactive`]); no external resource, and
//! every picture is still there with scripts disabled.

use std::fmt::Write as _;

use super::chart::fmt_num;
use super::palette::Style;
use super::plots::Picture;
use super::read::{Results, SummaryRow};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// What to look for in each picture.
fn caption(file: &str) -> &'static str {
    match file {
        "loss.svg" => {
            "Each line is the mean training loss over seeds; the shaded band spans the best and worst seed. \
            A flat line at the start means the network cannot learn from that initialization (vanishing signal or symmetry); \
            a line that shoots up or ends in × means the run diverged (exploding signal). Compare how fast each init gets down, not only where it ends."
        }
        "accuracy.svg" => {
            "Test accuracy, mean over seeds with the min–max band. An init that is stuck near chance level \
            has not broken symmetry or has no gradient to learn from; a wide band means the result depends on the seed."
        }
        "signal.svg" => {
            "The spread (standard deviation) of each layer's activations (top) and of the gradient flowing back \
            into it (bottom) for the untrained network. A line that falls by orders of magnitude across layers means the signal vanishes; \
            one that climbs means it explodes. Xavier and He are designed to keep these lines flat, so that every layer gets a usable signal and gradient."
        }
        "saturation.svg" => {
            "Saturated units (tanh/sigmoid near ±1, where the derivative is almost 0) and dead units (ReLU never \
            active) in %, averaged over layers; the band spans the least and most affected layer. Saturated or dead units pass \
            almost no gradient, so a high line means much of the network is not learning."
        }
        "update-ratio.svg" => {
            "How big each step is compared with the weights it changes (log10 of |update| / |weight|, per layer). \
            Around −3 (dashed line) is a common rule of thumb; far below, the layer barely moves (often the vanishing-gradient layers); \
            far above, training is unstable."
        }
        "blocks.svg" => {
            "Residual networks only: the spread (std) of each residual block's output in the untrained network, block 0 being \
            the input of the first, mean over seeds; the thin lines with hollow circles are the mean-field prediction (Yang & \
            Schoenholz 2017: each block adds its branch's variance to the stream). Under plain He on ReLU the branch doubles \
            what it reads, so the variance triples per block and the std grows by √3 each block; Fixup's zero last layer and \
            SkipInit's and ReZero's α = 0 add nothing, so the line is flat; a LayerNorm opening each branch adds a constant, \
            so the std grows only like √depth."
        }
        "transfer.svg" => {
            "Learning-rate transfer (Tensor Programs V, Figure 1): the final train loss against log2 of the learning rate, \
            one line per width (light = narrow, dark = wide), the band ± one standard deviation over seeds, a dot on each \
            width's best rate, a gap where every seed diverged; one panel per parametrization. Under the standard \
            parametrization wider networks need smaller rates (the curves slide left and diverge sooner); under μP the \
            curves line up, so the rate tuned on a narrow network is right for a wide one."
        }
        "drift.svg" => {
            "Lazy or feature learning: how far each layer's weights (top) and its outputs on the probe rows (bottom) have \
            moved from the start by the last logged epoch, relative to their size at the start, against the width; log-log, \
            one line per layer (darker = deeper), mean over seeds, one column per parametrization. A line that falls with the \
            width (like 1/width for the first layer under the standard parametrization) is a layer that stops learning as \
            the network widens: the kernel, or lazy, regime. Under μP the feature lines stay flat: every layer keeps learning."
        }
        "sweep.svg" => {
            "The final accuracy (mean over seeds) against the setting a [grid] axis sweeps, one line per start and value \
            of the other axes, one panel per activation; log scale for a logspace axis. weight-scale's shape (CS231n): \
            without normalization only a band of weight scales trains, with BatchNorm almost all. The numbers are summary.csv's."
        }
        "quantiles.svg" => {
            "How the last hidden layer's pre-activations (the inputs of its activation) are distributed as training goes on, \
            one panel per start, each on its own scale: the line is the median over every unit and probe row, the darker band \
            spans the 15.87th to the 84.13th percentile (±1σ of a normal; Ioffe & Szegedy 2015, Figure 1, draw the 15th, 50th \
            and 85th), the paler one the 6.68th to the 93.32th. A band that drifts or widens means the layers above keep seeing \
            a different input distribution; BatchNorm holds it in place. Every layer, every percentile and one unit alone are \
            in quantiles.csv."
        }
        "distributions.svg" => {
            "For each activation and start, the histogram of every hidden layer's activations and of the gradient             back-propagated into them (dL/da), one line per layer, darker = deeper, seeds summed; at the first and the last             epoch with histograms. Glorot & Bengio 2010 (Figures 6 and 7): under the standard start the tanh activations of             the higher layers pile up at 0 and the gradients narrow toward the lower layers; under Xavier every layer looks             much the same. A spike at 0 is an exact zero (dead ReLU units, a zero start); unbounded quantities use             signed log bins (4 per decade), so a narrower distribution sits closer to the middle."
        }
        "boundary.svg" => {
            "The class the trained network predicts over the input plane (paler = less confident), with the \
            training points on top. A region covering the whole plane means the network learned nothing useful; jagged or \
            oddly placed boundaries show what a poor start leaves behind."
        }
        _ => "",
    }
}

fn num(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_else(|| "—".into())
}

fn mean_std(m: Option<f64>, s: Option<f64>, pct: bool) -> String {
    let k = if pct { 100.0 } else { 1.0 };
    match (m, s) {
        (None, _) => "—".into(),
        (Some(m), Some(s)) if s.is_finite() => format!("{} ± {}", fmt_num(m * k), fmt_num(s * k)),
        (Some(m), _) => fmt_num(m * k),
    }
}

/// The lowest finite value of `field` per activation.
fn best_per_activation(
    rows: &[SummaryRow],
    field: fn(&SummaryRow) -> Option<f64>,
) -> Vec<(String, f64)> {
    let mut best: Vec<(String, f64)> = Vec::new();
    for r in rows {
        if let Some(v) = field(r).filter(|v| v.is_finite()) {
            match best.iter_mut().find(|(a, _)| *a == r.activation) {
                Some(b) if v < b.1 => b.1 = v,
                Some(_) => {}
                None => best.push((r.activation.clone(), v)),
            }
        }
    }
    best
}

fn is_best(best: &[(String, f64)], act: &str, v: Option<f64>) -> bool {
    matches!((best.iter().find(|(a, _)| a == act), v), (Some((_, b)), Some(v)) if v == *b)
}

/// A start's line sample (colour and dash pattern), as in the pictures' legends.
pub fn line_sample(style: Style) -> String {
    let dash = style
        .dash
        .dasharray()
        .map(|a| format!(" stroke-dasharray=\"{a}\""))
        .unwrap_or_default();
    format!(
        "<svg class=\"sw\" width=\"26\" height=\"10\" viewBox=\"0 0 26 10\" aria-hidden=\"true\"><line x1=\"1\" y1=\"5\" x2=\"25\" y2=\"5\" stroke=\"{}\" stroke-width=\"3\"{dash}/></svg>",
        style.color.hex()
    )
}

fn swatch(results: &Results, init: &str) -> String {
    format!(
        "<span class=\"init\">{}{}</span>",
        line_sample(super::plots::styles(results).get(init)),
        escape(init)
    )
}

fn summary_table(results: &Results, rows: &[SummaryRow], out: &mut String) {
    let has_test = rows
        .iter()
        .any(|r| r.final_test_loss_mean.is_some() || r.final_test_accuracy_mean.is_some());
    let best_train = best_per_activation(rows, |r| r.final_train_loss_mean);
    let best_test = best_per_activation(rows, |r| r.final_test_loss_mean);
    out.push_str("<table class=\"summary\"><thead><tr><th>activation</th><th>init</th><th>runs</th><th>diverged</th>\
        <th>final train loss</th><th>final train accuracy (%)</th>");
    if has_test {
        out.push_str("<th>final test loss</th><th>final test accuracy (%)</th>");
    }
    out.push_str("<th>epochs to target (median)</th></tr></thead><tbody>\n");
    let mut last_act: Option<&str> = None;
    for r in rows {
        let first = last_act != Some(r.activation.as_str());
        last_act = Some(&r.activation);
        let cls = if first { " class=\"group\"" } else { "" };
        let div_cls = if r.diverged > 0 { " class=\"bad\"" } else { "" };
        let best = |b: &[(String, f64)], v| {
            if is_best(b, &r.activation, v) {
                " class=\"best\""
            } else {
                ""
            }
        };
        let _ = write!(
            out,
            "<tr{cls}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\"><span{div_cls}>{}</span></td><td class=\"n\"><span{}>{}</span></td><td class=\"n\">{}</td>",
            escape(&r.activation),
            swatch(results, &r.init),
            r.runs,
            r.diverged,
            best(&best_train, r.final_train_loss_mean),
            mean_std(r.final_train_loss_mean, r.final_train_loss_std, false),
            mean_std(
                r.final_train_accuracy_mean,
                r.final_train_accuracy_std,
                true
            ),
        );
        if has_test {
            let _ = write!(
                out,
                "<td class=\"n\"><span{}>{}</span></td><td class=\"n\">{}</td>",
                best(&best_test, r.final_test_loss_mean),
                mean_std(r.final_test_loss_mean, r.final_test_loss_std, false),
                mean_std(r.final_test_accuracy_mean, r.final_test_accuracy_std, true),
            );
        }
        let partial = if r.partial {
            " <span class=\"bad\">(partial)</span>"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<td class=\"n\">{}{partial}</td></tr>",
            num(r.epochs_to_target_median)
        );
    }
    out.push_str(
        "</tbody></table>\n<p class=\"note\">Mean ± standard deviation over seeds. \
        <span class=\"best\">Highlighted</span>: the lowest final loss for each activation. \
        “—” means missing (e.g. every run diverged, or the target loss was never reached).</p>\n",
    );
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#222;line-height:1.45}\
h1{margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
.desc{font-size:1.1em;color:#444}.note{color:#555;font-size:.92em}\
table{border-collapse:collapse;font-size:.92em}th,td{padding:4px 10px;border-bottom:1px solid #e4e4e4;text-align:left}\
th{background:#f3f3f3;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
tr.group td{border-top:2px solid #bbb}.best{background:#fff1a8;font-weight:600;padding:1px 4px;border-radius:3px}\
.bad{color:#b00020;font-weight:600}.init{white-space:nowrap}.sw{display:inline-block;margin-right:6px;vertical-align:0}\
figure{margin:1em 0 2em}figure svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
figcaption{margin-top:.5em;color:#333;max-width:900px}\
pre{background:#f7f7f7;border:1px solid #e4e4e4;padding:10px;overflow:auto;font-size:.88em}\
ul.formulas{list-style:none;padding-left:0}ul.formulas li{margin:.25em 0}code{font-size:.95em}";

/// `classes: 0 = setosa, 1 = versicolor, …`: class `i` (the network's output `i`) is
/// `names[i]`, as the terminal summary lists them.
pub fn classes_line(names: &[String]) -> String {
    let list: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{i} = {n}"))
        .collect();
    format!("classes: {}", list.join(", "))
}

/// Builds the report page.
pub fn render(results: &Results, pictures: &[Picture], formulas: &[(String, String)]) -> String {
    let name = results.name();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>initlab report: {}</title>\n<style>{CSS}{}</style>\n</head>\n<body>\n<h1>initlab report: {}</h1>\n",
        escape(&name),
        super::interactive::CSS,
        escape(&name)
    );
    if let Some(d) = results.description() {
        let _ = writeln!(out, "<p class=\"desc\">{}</p>", escape(&d));
    }
    if let Some(v) = results.config_str("initlab_version") {
        let _ = writeln!(
            out,
            "<p class=\"note\">Made with initlab {}.</p>",
            escape(&v)
        );
    }
    if let Some(names) = results.class_names().filter(|n| !n.is_empty()) {
        let _ = writeln!(
            out,
            "<p class=\"classes\">{}</p>",
            escape(&classes_line(&names))
        );
    }

    out.push_str("<h2>Summary</h2>\n");
    match results.summary.as_deref() {
        Some(rows) if !rows.is_empty() => summary_table(results, rows, &mut out),
        _ => out.push_str("<p class=\"note\">No summary.csv in this results directory.</p>\n"),
    }

    let present: Vec<(&String, &String)> = results
        .inits
        .iter()
        .filter_map(|i| formulas.iter().find(|(n, _)| n == i).map(|(_, f)| (i, f)))
        .collect();
    if !present.is_empty() {
        out.push_str("<h2>Initializations</h2>\n<ul class=\"formulas\">\n");
        for (init, f) in present {
            let _ = writeln!(
                out,
                "<li>{} — <code>{}</code></li>",
                swatch(results, init),
                escape(f)
            );
        }
        out.push_str("</ul>\n<p class=\"note\">fan_in and fan_out are the numbers of inputs and outputs of a layer.</p>\n");
    }

    out.push_str(&super::interactive::section(results));

    for p in pictures {
        let _ = write!(out, "<h2>{}</h2>\n<figure>\n", escape(&p.title));
        // The SVG is inlined as is: plotters escapes its text, and it has no XML prolog.
        out.push_str(p.svg.trim());
        let _ = write!(
            out,
            "\n<figcaption>{} <span class=\"note\">({})</span></figcaption>\n</figure>\n",
            escape(caption(p.file)),
            escape(p.file)
        );
    }

    if let Some(cfg) = &results.config {
        let _ = writeln!(
            out,
            "<h2>Resolved configuration</h2>\n<pre>{}</pre>",
            escape(cfg.trim_end())
        );
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_come_from_config_toml_strings_only() {
        let with = |config: &str| Results {
            config: Some(config.to_string()),
            ..Results::default()
        };
        let r = with("name = \"x\"\nclasses = [\"a<b\", \"c\"]\n");
        assert_eq!(r.class_names().unwrap(), ["a<b", "c"]);
        let page = render(&r, &[], &[]);
        assert!(page.contains("<p class=\"classes\">classes: 0 = a&lt;b, 1 = c</p>"));
        // Numeric labels (no key), a non-string entry or a broken file: no line.
        for config in ["name = \"x\"\n", "classes = [\"a\", 1]\n", "classes = [\n"] {
            let r = with(config);
            assert_eq!(r.class_names(), None, "{config}");
            assert!(!render(&r, &[], &[]).contains("class=\"classes\""));
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn every_picture_has_a_caption() {
        for f in [
            "loss.svg",
            "accuracy.svg",
            "signal.svg",
            "saturation.svg",
            "update-ratio.svg",
            "blocks.svg",
            "transfer.svg",
            "drift.svg",
            "sweep.svg",
            "quantiles.svg",
            "boundary.svg",
            "distributions.svg",
        ] {
            assert!(!caption(f).is_empty(), "{f}");
        }
    }
}
