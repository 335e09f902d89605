//! Memory estimates, and the guard that refuses a computation before it allocates more
//! than fits: one clear error naming the setting and the estimate ("--width 100000 needs
//! ~320 GB for …; 22 GB available") instead of an allocation failure, a backtrace or the
//! kernel's OOM killer.
//!
//! An [`Estimate`] is a sum of [`Part`]s, each the bytes of one kind of buffer and the
//! setting that makes it large; a [`Budget`] is what may be used: `--max-memory`, or else
//! the memory the system says is available (`MemAvailable` in `/proc/meminfo`, lowered to
//! the cgroup's limit when there is one). The estimates count the big buffers (weights,
//! gradients, per-layer activations of a batch, data copies, results waiting to be
//! written); they are meant to be right within a factor of about two, which is what
//! telling "fits" from "cannot possibly fit" needs.
//!
//! ```
//! use initlab::memory::{Budget, Estimate, Part, format_bytes, parse_size};
//! let budget = Budget::limit(parse_size("1G").unwrap());
//! let small = Estimate::from(Part::new("--width 10", "the weights", 400));
//! assert!(budget.check(&small).is_ok());
//! let big = Estimate::from(Part::new("--width 100000", "the weights", 40_000_000_000));
//! let err = budget.check(&big).unwrap_err();
//! assert_eq!(err, "--width 100000 needs ~40 GB for the weights; --max-memory is 1.0 GB");
//! assert_eq!(format_bytes(1_500_000), "1.5 MB");
//! ```

use std::fmt::Write as _;

use crate::experiment::spec::ExperimentSpec;

/// Bytes the process needs whatever it computes (code, runtime, thread stacks, buffers of
/// the output files; a small experiment peaks at about 6 MB), added to every estimate.
pub const BASE: u64 = 8_000_000;

/// One kind of buffer of an estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The setting that makes it large, as the user wrote it (`--width 100000`,
    /// `network.hidden = [4096, 4096]`).
    pub setting: String,
    /// What it is, after "for" (`the weights and gradients of 4 layers of 100000 × 100000`).
    pub what: String,
    /// Its size.
    pub bytes: u64,
}

impl Part {
    /// A part of `bytes` bytes for `what`, made large by `setting`.
    pub fn new(setting: impl Into<String>, what: impl Into<String>, bytes: u64) -> Self {
        Part {
            setting: setting.into(),
            what: what.into(),
            bytes,
        }
    }
}

/// What a computation needs: the sum of its parts (and [`BASE`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estimate {
    /// The parts, in no particular order.
    pub parts: Vec<Part>,
}

impl From<Part> for Estimate {
    fn from(part: Part) -> Self {
        Estimate { parts: vec![part] }
    }
}

impl Estimate {
    /// The total in bytes, [`BASE`] included.
    pub fn total(&self) -> u64 {
        self.parts
            .iter()
            .fold(BASE, |sum, p| sum.saturating_add(p.bytes))
    }

    /// The largest part (whose setting the error names).
    pub fn largest(&self) -> Option<&Part> {
        self.parts.iter().max_by_key(|p| p.bytes)
    }
}

/// How much memory a computation may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The limit in bytes; `None` when unknown (nothing is refused).
    pub bytes: Option<u64>,
    /// Whether the limit is `--max-memory`'s (else what the system has available).
    pub from_flag: bool,
}

impl Budget {
    /// The `--max-memory` limit.
    pub fn limit(bytes: u64) -> Self {
        Budget {
            bytes: Some(bytes),
            from_flag: true,
        }
    }

    /// `--max-memory` if given, else what the system has available now ([`available`]).
    pub fn detect(max_memory: Option<u64>) -> Self {
        match max_memory {
            Some(bytes) => Budget::limit(bytes),
            None => Budget {
                bytes: available(),
                from_flag: false,
            },
        }
    }

    /// `Ok` if `estimate` fits, else the message for the user: the largest part's setting,
    /// what it is for and its size, the total when there is more, and the budget.
    pub fn check(&self, estimate: &Estimate) -> Result<(), String> {
        let (Some(limit), Some(part)) = (self.bytes, estimate.largest()) else {
            return Ok(());
        };
        let total = estimate.total();
        if total <= limit {
            return Ok(());
        }
        let mut message = if part.bytes < BASE {
            // Nothing in particular is large: the limit is below what initlab needs at all.
            format!(
                "initlab needs ~{} to start (~{} of it for the program itself)",
                format_bytes(total),
                format_bytes(BASE)
            )
        } else {
            format!(
                "{} needs ~{} for {}",
                part.setting,
                format_bytes(part.bytes),
                part.what
            )
        };
        if part.bytes >= BASE && format_bytes(total) != format_bytes(part.bytes) {
            let _ = write!(message, ", ~{} in all", format_bytes(total));
        }
        if self.from_flag {
            let _ = write!(message, "; --max-memory is {}", format_bytes(limit));
        } else {
            let _ = write!(
                message,
                "; {} available (--max-memory sets another limit)",
                format_bytes(limit)
            );
        }
        Err(message)
    }
}

/// The memory available to this process, in bytes: `MemAvailable` of `/proc/meminfo`,
/// lowered to what the cgroup (v2) still allows when it sets a limit; `None` where neither
/// can be read (not Linux).
pub fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let system = meminfo.as_deref().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{name}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    // "max" (no limit) does not parse, and then only the system's figure counts.
    let cgroup =
        read("memory.max").map(|max| max.saturating_sub(read("memory.current").unwrap_or(0)));
    match (system, cgroup) {
        (Some(s), Some(c)) => Some(s.min(c)),
        (s, c) => s.or(c),
    }
}

/// Parses a size such as `512M`, `2G`, `1.5GB`, `4GiB` or `1000000` (bytes): K, M, G, T
/// are powers of 1000 (with or without a trailing B), KiB, MiB, GiB, TiB powers of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| {
        format!(
            "`{text}` is not a size; expected a number with an optional unit, e.g. 512M, 2G, 4GiB"
        )
    })?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`; expected B, K, M, G, T (powers of 1000) or KiB, MiB, GiB, TiB"
            ));
        }
    };
    let bytes = value * scale;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!(
            "`{text}` is not a usable size; expected at least 1 byte"
        ));
    }
    Ok(bytes as u64)
}

/// A size for people, in powers of 1000: `512 bytes`, `1.5 MB`, `40 GB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes == 1 {
        return "1 byte".into();
    }
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.5 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value < 9.95 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// A whole number with thousands separators, as in the messages (`100,000`).
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parameters (weights and biases) of a network with layer sizes `sizes` (inputs first).
pub fn parameters(sizes: &[usize]) -> u64 {
    sizes
        .windows(2)
        .map(|w| (w[0] as u64 * w[1] as u64).saturating_add(w[1] as u64))
        .fold(0, u64::saturating_add)
}

/// Bytes of the per-layer buffers of one pass over `rows` rows (each layer's output and
/// its gradient dL/dz, as the engine's workspace holds them) plus the input rows.
pub fn batch_bytes(sizes: &[usize], rows: usize, element: usize) -> u64 {
    let widths: u64 = sizes.iter().skip(1).map(|&w| w as u64).sum();
    let per_row = 2 * widths + sizes.first().copied().unwrap_or(0) as u64;
    per_row
        .saturating_mul(rows as u64)
        .saturating_mul(element as u64)
}

/// What `initlab inspect` needs for one start (the starts run one after another): the
/// network's weights and their gradients, and the activations and gradients of a
/// `batch`-row pass (plus the input batch and the injected gradient).
pub fn inspect_estimate(depth: usize, width: usize, batch: usize, element: usize) -> Estimate {
    let mut sizes = vec![width];
    sizes.extend(std::iter::repeat_n(width, depth + 1));
    let params = parameters(&sizes);
    let layers = depth + 1;
    Estimate {
        parts: vec![
            Part::new(
                format!("--width {width}"),
                format!(
                    "the weights and gradients of {layers} layers of {} × {}",
                    grouped(width),
                    grouped(width)
                ),
                params.saturating_mul(2 * element as u64),
            ),
            Part::new(
                format!("--batch {batch}"),
                format!(
                    "the activations and gradients of a {}-row batch through {layers} layers of {} units",
                    grouped(batch),
                    grouped(width)
                ),
                batch_bytes(&sizes, batch, element)
                    .saturating_add((batch as u64 * width as u64).saturating_mul(element as u64)),
            ),
        ],
    }
}

/// The size of the data an experiment trains on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataShape {
    /// Rows of the whole data set.
    pub rows: usize,
    /// Input features.
    pub features: usize,
    /// Width of the output layer.
    pub outputs: usize,
}

/// Rows the engine evaluates at once (the training loop's evaluation chunk and the
/// probe's batch are both at most this many rows).
const EVAL_ROWS: usize = if crate::nn::train::EVAL_CHUNK > crate::experiment::stats::PROBE_ROWS {
    crate::nn::train::EVAL_CHUNK
} else {
    crate::experiment::stats::PROBE_ROWS
};
/// Parameter-sized buffers of one training run besides the optimizer's state: the weights,
/// the step's gradient, the weights before the step (for the update ratio), the
/// evaluation's two gradient sums and the probe's gradient.
const PARAMETER_COPIES: u64 = 6;
/// Decision-boundary points of a run on 2-D data, 32 bytes each.
const BOUNDARY_BYTES: u64 = 40 * 40 * 32;

/// Logged epochs of a run (epoch 0, every `log_every`-th, and the last).
fn logged_epochs(spec: &ExperimentSpec) -> u64 {
    let t = &spec.training;
    ((t.epochs / t.log_every.max(1)) as u64).saturating_add(2)
}

/// Most non-empty bins of one histogram: the signed log bins (4 a decade over 12 decades,
/// both signs), the zero, NaN, underflow and overflow bins (the linear bins of bounded
/// outputs are fewer).
const HISTOGRAM_BINS: u64 = 2
    * (crate::nn::histogram::LOG_BINS_PER_DECADE
        * (crate::nn::histogram::LOG_MAX_EXPONENT - crate::nn::histogram::LOG_MIN_EXPONENT))
        as u64
    + 6;

/// What one run keeps in memory until it is written, growing with its length: a metrics
/// row and a `layers.csv` row per layer at every logged epoch, and the histograms of its
/// histogram epochs (five quantities per layer). Returns the bytes and the logged epochs.
fn logged_rows_bytes(spec: &ExperimentSpec) -> (u64, u64) {
    use std::mem::size_of;
    let logged = logged_epochs(spec);
    let layers = spec.network.hidden.len() as u64 + 1;
    let row = size_of::<crate::nn::EpochRecord>() as u64
        + layers * size_of::<crate::nn::stats::LayerStats>() as u64;
    let runs = spec
        .inits
        .len()
        .saturating_mul(spec.network.activations.len())
        .saturating_mul(spec.seeds);
    let histogram_epochs =
        (spec.training.histogram_count(runs, layers as usize) as u64).min(logged);
    let histogram = layers
        * crate::nn::histogram::Quantity::ALL.len() as u64
        * HISTOGRAM_BINS
        * size_of::<crate::nn::histogram::HistogramBin>() as u64
        + size_of::<usize>() as u64;
    (
        logged
            .saturating_mul(row)
            .saturating_add(histogram_epochs.saturating_mul(histogram)),
        logged,
    )
}

/// The layer sizes of `spec`'s network on data of shape `data`, inputs first.
fn layer_sizes(spec: &ExperimentSpec, data: DataShape) -> Vec<usize> {
    let mut sizes = vec![data.features];
    sizes.extend_from_slice(&spec.network.hidden);
    sizes.push(data.outputs);
    sizes
}

/// What running the grid of `spec` needs: `threads` runs at once, each with its network
/// and optimizer state, its copy of the data split, the buffers of its mini-batch, of the
/// whole-set evaluation and of the probe, plus the finished runs waiting in the reorder
/// window (`window` of them) and the summary's values of one start × activation, and the
/// rows each of those runs logs as it trains until it is written (they grow with
/// `training.epochs / training.log_every`, so a run too long to hold is refused before it
/// starts rather than failing an allocation hours later). The number of runs in the grid
/// does not appear: results are streamed to disk.
pub fn grid_estimate(
    spec: &ExperimentSpec,
    data: DataShape,
    threads: usize,
    window: usize,
    save_weights: bool,
    element: usize,
) -> Estimate {
    let e = element as u64;
    let sizes = layer_sizes(spec, data);
    let mut params = parameters(&sizes);
    let mut batch_row_values = None;
    if !spec.network.shape().is_plain() {
        // The layer engine: count the planned network (nothing allocated), the largest of
        // the compared activations' (they share the shape).
        for &a in &spec.network.activations {
            if let Ok(plan) = crate::experiment::build::network_plan(
                &spec.network.shape(),
                data.features,
                data.outputs,
                a,
            ) {
                let (p, values) = crate::experiment::build::plan_size(&plan, data.features);
                params = params.max(p);
                batch_row_values = Some(values.saturating_add(data.features as u64));
            }
        }
    }
    let batch_bytes = |rows: usize| match batch_row_values {
        Some(values) => values.saturating_mul(rows as u64).saturating_mul(e),
        None => batch_bytes(&sizes, rows, element),
    };
    // Adam keeps two moment buffers where SGD keeps one velocity.
    // The optimizer says how many copies of the parameters its state holds (SGD with
    // momentum one, Adam two; a configuration that does not build counts as plain SGD).
    let t = &spec.training;
    let state = t
        .optimizer
        .build::<f32>(t.learning_rate, t.momentum, t.weight_decay)
        .map_or(0, |o| o.state_copies()) as u64;
    let copies = PARAMETER_COPIES + state.max(1);
    let threads = threads.max(1) as u64;
    let at_once = if threads == 1 {
        "one run at a time (--threads 1)".to_string()
    } else {
        format!("{threads} runs at once (--threads {threads})")
    };
    let hidden = match spec.network.hidden.as_slice() {
        [w, rest @ ..] if rest.len() >= 3 && rest.iter().all(|x| x == w) => format!(
            "network.hidden ({} layers of {})",
            rest.len() + 1,
            grouped(*w)
        ),
        [] => "network.layers".to_string(),
        h => format!("network.hidden = {h:?}"),
    };
    let batch = spec
        .training
        .batch_size
        .unwrap_or(usize::MAX)
        .min(data.rows);
    let eval = data.rows.clamp(1, EVAL_ROWS);
    let (rows, logged) = logged_rows_bytes(spec);
    // classes.csv's rows: every class of both splits at every logged epoch (counted for
    // regression too, where there are none: a few bytes per epoch).
    let classes = data.outputs.max(2) as u64;
    let class_row =
        std::mem::size_of::<crate::experiment::record::ClassStats>() as u64 + CLASS_NAME_BYTES;
    let rows = rows.saturating_add(logged.saturating_mul(2 * classes * class_row));
    let t = &spec.training;
    let result = BOUNDARY_BYTES.saturating_add(if save_weights { 2 * params * e } else { 0 });
    let batch_setting = match spec.training.batch_size {
        Some(b) => format!("training.batch_size = {b}"),
        None => format!("full-batch training on {} rows", grouped(data.rows)),
    };
    Estimate {
        parts: vec![
            Part::new(
                hidden.clone(),
                format!(
                    "the weights, gradients and optimizer state of {} parameters, × {at_once}",
                    grouped(params as usize)
                ),
                params.saturating_mul(copies * e).saturating_mul(threads),
            ),
            Part::new(
                batch_setting,
                format!(
                    "the activations of a {}-row batch, × {at_once}",
                    grouped(batch)
                ),
                batch_bytes(batch).saturating_mul(threads),
            ),
            Part::new(
                hidden,
                format!(
                    "the activations of the {}-row evaluation and probe passes, × {at_once}",
                    grouped(eval)
                ),
                batch_bytes(eval).saturating_mul(2 * threads),
            ),
            Part::new(
                format!(
                    "the data set ({} rows × {} features)",
                    grouped(data.rows),
                    data.features
                ),
                "each run's copy of its split",
                (data.rows as u64 * data.features as u64)
                    .saturating_mul(e + 8)
                    .saturating_mul(threads + 1),
            ),
            Part::new(
                if save_weights {
                    "--save-weights".to_string()
                } else {
                    format!("--threads {threads}")
                },
                format!(
                    "the weights and boundaries of {window} finished runs waiting to be written"
                ),
                result.saturating_mul(window as u64),
            ),
            Part::new(
                format!(
                    "training.epochs = {} with training.log_every = {}",
                    t.epochs, t.log_every
                ),
                format!(
                    "the rows of {} logged epochs a run holds until it is written (metrics, per-layer statistics, histograms, per-class accuracies), × {} runs training or waiting",
                    grouped(logged as usize),
                    threads as usize + window
                ),
                rows.saturating_mul(threads + window as u64),
            ),
            Part::new(
                format!("--seeds {}", spec.seeds),
                "the final values of one start × activation's runs, for summary.csv and the per-class summary",
                (spec.seeds as u64).saturating_mul(32 + 2 * classes * 8),
            ),
        ],
    }
}

/// Heap bytes of a class name held in a `classes.csv` row (a short name or index; longer
/// names are rare and few).
const CLASS_NAME_BYTES: u64 = 16;

/// Bytes of one row of `metrics.csv`, `layers.csv` or `boundary.csv` once the report has
/// read it back (the run key's strings included): `initlab plot` of xor at 500 seeds
/// peaks at 755 MB for 2.76 million rows, 274 bytes a row.
const REPORT_ROW_BYTES: u64 = 300;

/// What drawing the report of `runs` runs of `spec` needs: it reads `metrics.csv`,
/// `layers.csv` and `boundary.csv` back whole (counted as if the data were 2-D).
pub fn report_estimate(spec: &ExperimentSpec, runs: usize) -> Estimate {
    let layers = spec.network.hidden.len() as u64 + 1;
    let rows_per_run = logged_epochs(spec) * (1 + layers);
    // The first replicate of each start × activation has a decision boundary on 2-D data.
    let boundary_rows = (runs as u64 / spec.seeds.max(1) as u64) * 1600;
    let rows = (runs as u64)
        .saturating_mul(rows_per_run)
        .saturating_add(boundary_rows);
    Estimate::from(Part::new(
        format!("--seeds {}", spec.seeds),
        format!(
            "drawing the report of {} runs (it reads every row of metrics.csv and layers.csv back; --no-plots skips it)",
            grouped(runs)
        ),
        rows.saturating_mul(REPORT_ROW_BYTES),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_kinds_of_units() {
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        assert_eq!(parse_size("512M"), Ok(512_000_000));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size(" 2 k "), Ok(2000));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(
            parse_size("3 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn bytes_are_formatted_with_two_or_three_digits() {
        assert_eq!(format_bytes(999), "999 bytes");
        assert_eq!(format_bytes(1000), "1.0 kB");
        assert_eq!(format_bytes(40_000_000_000), "40 GB");
        assert_eq!(format_bytes(320_004_000_000), "320 GB");
        assert_eq!(format_bytes(999_999), "1.0 MB");
        assert_eq!(grouped(100_000), "100,000");
        assert_eq!(grouped(999), "999");
    }

    /// The issue's case: depth 3, width 100000, f32 — four 100000 × 100000 weight matrices
    /// (the inputs are `width` wide too) and as many gradients: 4 · 10¹⁰ · 4 B · 2.
    #[test]
    fn the_inspect_estimate_counts_every_weight_and_gradient() {
        let e = inspect_estimate(3, 100_000, 1000, 4);
        let weights = &e.parts[0];
        assert_eq!(weights.bytes, 2 * 4 * (4 * 100_000 * 100_000 + 4 * 100_000));
        assert_eq!(weights.setting, "--width 100000");
        // The batch: 4 layers × (output + gradient) + input + injected gradient, 1000 rows.
        assert_eq!(
            e.parts[1].bytes,
            4 * 1000 * (2 * 4 * 100_000 + 100_000 + 100_000)
        );
        let err = Budget::limit(22_000_000_000).check(&e).unwrap_err();
        assert!(err.starts_with("--width 100000 needs ~320 GB for the weights and gradients of 4 layers of 100,000 × 100,000, ~324 GB in all"), "{err}");
    }

    #[test]
    fn an_unknown_budget_refuses_nothing() {
        let budget = Budget {
            bytes: None,
            from_flag: false,
        };
        let e = Estimate::from(Part::new("x", "y", u64::MAX));
        assert!(budget.check(&e).is_ok());
    }
}
