//! A range of values from the command line, `START:END:COUNT`, checked by flag name.

/// `count` evenly spaced values from `start` to `end` inclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// First value.
    pub start: f64,
    /// Last value.
    pub end: f64,
    /// Number of values (≥ 1; 1 means just `start`, which must then equal `end`).
    pub count: usize,
}

impl Range {
    /// Parses `START:END:COUNT` for flag `flag`; `positive` requires every value > 0
    /// (σ_w²), otherwise ≥ 0 (σ_b²).
    pub fn parse(flag: &str, text: &str, positive: bool) -> Result<Range, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let bad = |why: &str| {
            format!("{flag} {text:?}: {why}; expected START:END:COUNT, e.g. {flag} 0.5:4:15")
        };
        if parts.len() != 3 {
            return Err(bad("not three fields"));
        }
        let number = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        let (Some(start), Some(end)) = (number(parts[0]), number(parts[1])) else {
            return Err(bad("START and END must be finite numbers"));
        };
        let Ok(count) = parts[2].trim().parse::<usize>() else {
            return Err(bad("COUNT must be a whole number ≥ 1"));
        };
        if count == 0 {
            return Err(bad("the range is empty (COUNT = 0)"));
        }
        if end < start || (count == 1 && end != start) || (count > 1 && end == start) {
            return Err(bad(
                "the range is inverted or empty (need START < END, or COUNT = 1 and START = END)",
            ));
        }
        if positive && start <= 0.0 {
            return Err(bad("σ_w² must be > 0"));
        }
        if start < 0.0 {
            return Err(bad("σ_b² must be ≥ 0"));
        }
        Ok(Range { start, end, count })
    }

    /// The values.
    pub fn values(&self) -> Vec<f64> {
        if self.count == 1 {
            return vec![self.start];
        }
        (0..self.count)
            .map(|i| self.start + (self.end - self.start) * i as f64 / (self.count - 1) as f64)
            .collect()
    }
}

/// A diagram with more cells than this is refused (each cell's output is a CSV row; the
/// trainability diagram's cells are training runs).
pub const MAX_CELLS: usize = 250_000;

/// Checks that `cells` does not exceed [`MAX_CELLS`], naming the flags that set it.
pub fn check_cells(cells: usize, flags: &str) -> Result<(), String> {
    if cells > MAX_CELLS {
        return Err(format!(
            "{flags}: the diagram would have {cells} cells, more than {MAX_CELLS} (too much \
             memory and time); use fewer values"
        ));
    }
    Ok(())
}
