//! The explorer of `report.html`: the per-layer histograms (`histograms.csv`) and
//! statistics (`layers.csv`) embedded as JSON, and the small script that draws them
//! (`explorer.js`, plain JavaScript written for this page, included verbatim).
//!
//! The JSON, compact so that the page stays small:
//!
//! ```text
//! { inits: [name], colors: ["#rrggbb"], dashes: [SVG dash array, "" if solid],
//!   activations: [name], seeds: [seed],
//!   quantities: [name], layers: L, epochs: [histogram epoch], statEpochs: [logged epoch],
//!   axes: [{q, act, out, bins: [[low, high]], ticks: [[bin position, label]]}],
//!   hists: [[init, activation, seed, epoch, layer, quantity, axis, [bin, count, …]]],
//!   statColumns: [{key, label, log}],
//!   stats: [[init, activation, seed, epoch, layer, value of each stat column…]],
//!   bandQuantities: [name], bandLevels: [percentile],
//!   bands: [[init, activation, seed, epoch, layer, quantity, value at each band level…]] }
//! ```
//!
//! `bands` are `quantiles.csv`'s whole-layer rows (when the run kept them, `--quantiles`):
//! the percentiles at [`BAND_LEVELS`] of each layer's pre-activations and activations at
//! each logged epoch, drawn as TensorBoard's distribution bands over training.
//!
//! The statistics are the measured columns of `layers.csv` in their registry's order
//! ([`LAYER_COLUMNS`]): the script learns their names, labels and scales from `statColumns`
//! rather than by position.
//!
//! Names are given by index into the lists; bins by index into their axis; non-finite
//! bin edges as the strings `"Infinity"`, `"-Infinity"`, `"NaN"` (JSON has no such numbers).
//! The starts' colours and dashes are the pictures' ([`super::plots::styles`]), and the
//! histogram axes' ticks theirs too ([`super::plots::bin_ticks`]).

use std::fmt::Write as _;

use super::histograms::Histograms;
use super::plots::{bin_ticks, styles};
use super::read::Results;
use crate::nn::histogram::Quantity;
use crate::nn::quantiles::LEVELS;
use crate::nn::stats::{LAYER_COLUMNS, Scale};

/// The percentile levels the explorer's bands draw (in %): [`LEVELS`] without the minimum
/// and the maximum, which one outlying row decides.
pub const BAND_LEVELS: std::ops::Range<usize> = 1..8;

/// The quantities of `quantiles.csv`, in the order the explorer names them.
const BAND_QUANTITIES: [Quantity; 2] = [Quantity::PreActivation, Quantity::Activation];

/// The script, included verbatim.
pub const SCRIPT: &str = include_str!("explorer.js");

/// A JSON string literal, safe inside a `<script>` element (`<` escaped).
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A bin edge: a JSON number, or a string for ±∞ and NaN.
fn edge(v: f64) -> String {
    if v.is_nan() {
        "\"NaN\"".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        }
        .into()
    } else {
        format!("{v}")
    }
}

/// A statistic with 4 significant digits (null when missing or not finite).
fn stat(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => {
            if v == 0.0 {
                "0".into()
            } else {
                format!("{v:.3e}")
            }
        }
        _ => "null".into(),
    }
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    let parts: Vec<String> = items.iter().map(f).collect();
    format!("[{}]", parts.join(","))
}

/// The explorer's data as JSON; `None` when the results have no histograms.
pub fn data_json(results: &Results) -> Option<String> {
    let rows = results.histograms.as_deref()?;
    if rows.is_empty() {
        return None;
    }
    let h = Histograms::from_rows(rows);
    let mut seeds: Vec<u64> = results.metrics.iter().map(|r| r.run.seed).collect();
    seeds.extend(h.hists.iter().map(|x| x.seed));
    seeds.sort_unstable();
    seeds.dedup();
    let pos = |v: &[String], s: &str| v.iter().position(|x| x == s).unwrap_or(0);
    let seed_pos = |s: u64| seeds.iter().position(|x| *x == s).unwrap_or(0);
    let q_pos = |q: Quantity| Quantity::ALL.iter().position(|x| *x == q).unwrap_or(0);
    let layers = results
        .layers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|r| r.row.layer)
        .max()
        .unwrap_or(h.output_layer)
        .max(h.output_layer);
    let mut stat_epochs: Vec<usize> = results
        .layers
        .iter()
        .flatten()
        .map(|r| r.row.epoch)
        .collect();
    stat_epochs.sort_unstable();
    stat_epochs.dedup();

    let styles = styles(results);
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"inits\":{},\"colors\":{},\"dashes\":{},\"activations\":{},\"seeds\":{},\"quantities\":{},\"layers\":{layers},\"epochs\":{},\"statEpochs\":{},",
        list(&results.inits, |s| json_str(s)),
        list(&results.inits, |s| json_str(&styles.get(s).color.hex())),
        list(&results.inits, |s| json_str(
            styles.get(s).dash.dasharray().unwrap_or("")
        )),
        list(&results.activations, |s| json_str(s)),
        list(&seeds, |s| s.to_string()),
        list(&Quantity::ALL, |q| json_str(q.name())),
        list(&h.epochs, |e| e.to_string()),
        list(&stat_epochs, |e| e.to_string()),
    );
    let _ = write!(
        out,
        "\"axes\":{},",
        list(&h.axes, |a| format!(
            "{{\"q\":{},\"act\":{},\"out\":{},\"bins\":{},\"ticks\":{}}}",
            json_str(a.quantity.name()),
            json_str(&a.activation),
            a.output,
            list(&a.bins, |(lo, hi)| format!("[{},{}]", edge(*lo), edge(*hi))),
            list(&bin_ticks(&a.bins), |(p, t)| format!(
                "[{p},{}]",
                json_str(t)
            ))
        ))
    );
    let _ = write!(
        out,
        "\"hists\":{},",
        list(&h.hists, |x| {
            let pairs: Vec<String> = x.counts.iter().map(|(b, c)| format!("{b},{c}")).collect();
            format!(
                "[{},{},{},{},{},{},{},[{}]]",
                pos(&results.inits, &x.init),
                pos(&results.activations, &x.activation),
                seed_pos(x.seed),
                x.epoch,
                x.layer,
                q_pos(x.quantity),
                x.axis,
                pairs.join(",")
            )
        })
    );
    let _ = write!(
        out,
        "\"statColumns\":{},",
        list(&LAYER_COLUMNS, |c| {
            let label = match c.scale {
                Scale::Fraction => format!("{} (fraction)", c.label),
                _ => c.label.to_string(),
            };
            format!(
                "{{\"key\":{},\"label\":{},\"log\":{}}}",
                json_str(c.key),
                json_str(&label),
                c.scale == Scale::Log
            )
        })
    );
    let stats = results.layers.as_deref().unwrap_or(&[]);
    let _ = write!(
        out,
        "\"stats\":{},",
        list(stats, |r| {
            let values: Vec<String> = LAYER_COLUMNS
                .iter()
                .map(|c| stat((c.value)(&r.row)))
                .collect();
            format!(
                "[{},{},{},{},{},{}]",
                pos(&results.inits, &r.run.init),
                pos(&results.activations, &r.run.activation),
                seed_pos(r.run.seed),
                r.row.epoch,
                r.row.layer,
                values.join(",")
            )
        })
    );
    let bands: Vec<_> = results
        .quantiles
        .iter()
        .flatten()
        .filter(|r| r.row.unit.is_none())
        .collect();
    let _ = write!(
        out,
        "\"bandQuantities\":{},\"bandLevels\":{},\"bands\":{}}}",
        list(&BAND_QUANTITIES, |q| json_str(q.name())),
        list(&LEVELS[BAND_LEVELS], |p| format!(
            "{}",
            (p * 1e4).round() / 100.0
        )),
        list(&bands, |r| {
            let values = r.row.values();
            format!(
                "[{},{},{},{},{},{},{}]",
                pos(&results.inits, &r.run.init),
                pos(&results.activations, &r.run.activation),
                seed_pos(r.run.seed),
                r.row.epoch,
                r.row.layer,
                BAND_QUANTITIES
                    .iter()
                    .position(|q| *q == r.row.quantity)
                    .unwrap_or(0),
                values[BAND_LEVELS]
                    .iter()
                    .map(|v| stat(*v))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
    );
    Some(out)
}

/// The explorer's section of the page: a placeholder that says what it needs (what a reader
/// without scripts sees), the data and the script. Empty without histograms.
pub fn section(results: &Results) -> String {
    let Some(json) = data_json(results) else {
        return String::new();
    };
    format!(
        "<h2>Explore the distributions</h2>\n<div id=\"explorer\"><p class=\"note\">This explorer \
         (an epoch slider over the per-layer histograms and statistics) needs JavaScript; the \
         pictures below show the same data without it.</p></div>\n\
         <script type=\"application/json\" id=\"initlab-data\">{json}</script>\n<script>\n{SCRIPT}</script>\n"
    )
}

/// The explorer's styles (added to the page's CSS).
pub const CSS: &str = ".controls label{margin-right:14px;white-space:nowrap}.slider{margin:10px 0}\
.slider input{width:420px;vertical-align:middle;margin:0 10px}\
.legend button{margin:2px 6px 2px 0;border:1px solid #ccc;background:#fafafa;border-radius:4px;padding:3px 8px;cursor:pointer}\
.legend button.off{opacity:.35;text-decoration:line-through}\
.panels{display:flex;flex-wrap:wrap;gap:10px}.hpanel{border:1px solid #eee}.ptitle{font-size:.9em;color:#333;padding:2px 6px}\
.readout{min-height:1.4em;font-variant-numeric:tabular-nums;color:#222;background:#f7f7f7;padding:2px 6px;margin:6px 0}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_cannot_close_the_script() {
        assert_eq!(json_str("a\"</script>"), "\"a\\\"\\u003c/script\\u003e\"");
        assert_eq!(edge(f64::NEG_INFINITY), "\"-Infinity\"");
        assert_eq!(edge(0.25), "0.25");
        assert_eq!(stat(Some(0.0123456)), "1.235e-2");
        assert_eq!(stat(Some(f64::NAN)), "null");
    }
}
