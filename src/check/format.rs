//! The four outputs of `initlab check`: a table for people, JSON for scripts, Gradescope's
//! `results.json` (its autograder specification: a total `score` and `tests`, each with
//! `name`, `score`, `max_score`, `status`, `output` and `visibility`), and JUnit XML (which
//! GitHub Classroom and most CI systems read).

use std::fmt::Write as _;

use serde::Serialize;

use super::verdict::Verdict;

/// A number for people: four significant digits, scientific when very small or large.
pub fn num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn total(verdicts: &[Verdict]) -> (f64, f64) {
    let score = verdicts.iter().map(Verdict::score).sum();
    let max = verdicts.iter().map(|v| v.expectation.points).sum();
    (score, max)
}

/// The table `initlab check` prints: one row per expectation (verdict, points, name,
/// measured value), the total, then the message of each failure.
pub fn table(verdicts: &[Verdict]) -> String {
    let name_width = verdicts
        .iter()
        .map(|v| v.expectation.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(11, 72);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<7} {:>7}  {:<name_width$}  measured",
        "verdict", "points", "expectation"
    );
    for v in verdicts {
        let e = &v.expectation;
        let name: String = e.name.chars().take(name_width).collect();
        let _ = writeln!(
            out,
            "{:<7} {:>7}  {:<name_width$}  {}",
            if v.passed { "PASS" } else { "FAIL" },
            format!("{}/{}", num(v.score()), num(e.points)),
            name,
            v.measured
        );
    }
    let (score, max) = total(verdicts);
    let passed = verdicts.iter().filter(|v| v.passed).count();
    let _ = writeln!(
        out,
        "score {}/{}: {passed} of {} expectations hold",
        num(score),
        num(max),
        verdicts.len()
    );
    for v in verdicts.iter().filter(|v| !v.passed) {
        let e = &v.expectation;
        let expected = e.describe();
        if e.name == expected {
            let _ = write!(out, "\nFAIL expected {expected}");
        } else {
            let _ = write!(out, "\nFAIL {}: expected {expected}", e.name);
        }
        if let Some(m) = &e.message {
            let _ = write!(out, "\n  {m}");
        }
        out.push('\n');
    }
    out
}

/// The text shown for one expectation in Gradescope and JUnit: what was expected, what
/// was measured, and the teaching message on failure.
fn output_text(v: &Verdict) -> String {
    let e = &v.expectation;
    let mut s = format!("expected {}\nmeasured {}", e.describe(), v.measured);
    if !v.passed
        && let Some(m) = &e.message
    {
        s.push('\n');
        s.push_str(m);
    }
    s
}

#[derive(Serialize)]
struct JsonReport<'a> {
    passed: bool,
    score: f64,
    max_score: f64,
    expectations: Vec<JsonVerdict<'a>>,
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    name: &'a str,
    expected: String,
    passed: bool,
    measured: &'a str,
    score: f64,
    max_score: f64,
    visibility: &'static str,
    message: Option<&'a str>,
}

/// Every verdict as JSON: `{ passed, score, max_score, expectations: [...] }`.
pub fn json(verdicts: &[Verdict]) -> String {
    let (score, max_score) = total(verdicts);
    let report = JsonReport {
        passed: verdicts.iter().all(|v| v.passed),
        score,
        max_score,
        expectations: verdicts
            .iter()
            .map(|v| JsonVerdict {
                name: &v.expectation.name,
                expected: v.expectation.describe(),
                passed: v.passed,
                measured: &v.measured,
                score: v.score(),
                max_score: v.expectation.points,
                visibility: v.expectation.visibility.name(),
                message: v.expectation.message.as_deref(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&report).expect("plain data serializes");
    s.push('\n');
    s
}

#[derive(Serialize)]
struct Gradescope<'a> {
    score: f64,
    output: String,
    tests: Vec<GradescopeTest<'a>>,
}

#[derive(Serialize)]
struct GradescopeTest<'a> {
    name: &'a str,
    score: f64,
    max_score: f64,
    status: &'static str,
    output: String,
    visibility: &'static str,
}

/// Gradescope's `results.json`: the total `score`, an `output` line, and one test per
/// expectation with its `score`, `max_score`, `status`, `output` and `visibility`.
pub fn gradescope(verdicts: &[Verdict]) -> String {
    let (score, max) = total(verdicts);
    let passed = verdicts.iter().filter(|v| v.passed).count();
    let report = Gradescope {
        score,
        output: format!(
            "initlab check: {passed} of {} expectations hold ({}/{} points)",
            verdicts.len(),
            num(score),
            num(max)
        ),
        tests: verdicts
            .iter()
            .map(|v| GradescopeTest {
                name: &v.expectation.name,
                score: v.score(),
                max_score: v.expectation.points,
                status: if v.passed { "passed" } else { "failed" },
                output: output_text(v),
                visibility: v.expectation.visibility.name(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&report).expect("plain data serializes");
    s.push('\n');
    s
}

/// Text escaped for an XML attribute or element: the HTML report's escaping, with line
/// breaks kept as `&#10;` (attributes would fold them) and other control characters,
/// which XML 1.0 forbids, dropped.
fn xml(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || (c as u32) >= 0x20)
        .collect();
    crate::report::html::escape(&kept).replace('\n', "&#10;")
}

/// JUnit XML: one `<testsuite>` named `suite`, one `<testcase>` per expectation, a
/// `<failure>` with the expected and measured values for each that does not hold.
pub fn junit(verdicts: &[Verdict], suite: &str) -> String {
    let failures = verdicts.iter().filter(|v| !v.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"initlab check\" tests=\"{}\" failures=\"{failures}\">",
        verdicts.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        xml(suite),
        verdicts.len()
    );
    for v in verdicts {
        let name = xml(&v.expectation.name);
        if v.passed {
            let _ = writeln!(
                out,
                "    <testcase name=\"{name}\" classname=\"{}\"/>",
                xml(suite)
            );
        } else {
            let _ = writeln!(
                out,
                "    <testcase name=\"{name}\" classname=\"{}\">",
                xml(suite)
            );
            let message = v
                .expectation
                .message
                .clone()
                .unwrap_or_else(|| format!("expected {}", v.expectation.describe()));
            let _ = writeln!(
                out,
                "      <failure message=\"{}\">{}</failure>",
                xml(&message),
                xml(&output_text(v))
            );
            let _ = writeln!(out, "    </testcase>");
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_four_significant_digits() {
        assert_eq!(num(0.693_2), "0.6932");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(1234.5678), "1235");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(3.2e-5), "3.200e-5");
        assert_eq!(num(-0.25), "-0.25");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml("a<b & \"c\"\n\u{1}"), "a&lt;b &amp; &quot;c&quot;&#10;");
    }
}
