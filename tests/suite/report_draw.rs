//! `report::draw_all` on the fixture results directory (tests/fixtures/report/xor).

use std::fs;
use std::path::{Path, PathBuf};

use initlab::report::draw_all;

const FILES: [&str; 6] = [
    "metrics.csv",
    "layers.csv",
    "summary.csv",
    "config.toml",
    "boundary.csv",
    "points.csv",
];
const INITS: [&str; 4] = ["tiny", "huge", "xavier-normal", "he-normal"];

/// Copies the fixture into a fresh temporary directory.
fn fixture() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/xor");
    let dir = tempfile::tempdir().unwrap();
    for f in FILES {
        fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn formulas() -> Vec<(String, String)> {
    [
        ("he-normal", "N(0, 2/fan_in)"),
        ("xavier-normal", "N(0, 2/(fan_in + fan_out))"),
        ("tiny", "N(0, 0.01²)"),
        ("huge", "N(0, 1²) × 10"),
        ("lecun-normal", "N(0, 1/fan_in)"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Tags open and close in balance (a cheap well-formedness check).
fn assert_balanced(svg: &str, file: &str) {
    assert!(svg.starts_with("<svg"), "{file} does not start with <svg");
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{file} does not end with </svg>"
    );
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("unclosed tag") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "{file}: unbalanced </{name}>"
            );
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "{file}: unclosed {stack:?}");
}

#[test]
fn draws_every_picture_and_the_report() {
    let dir = fixture();
    let written = draw_all(dir.path(), &formulas()).unwrap();
    assert_eq!(
        names(&written),
        [
            "loss.svg",
            "accuracy.svg",
            "signal.svg",
            "saturation.svg",
            "update-ratio.svg",
            "boundary.svg",
            "report.html"
        ]
    );
    let titles = [
        ("loss.svg", "Training loss"),
        ("accuracy.svg", "Test accuracy"),
        ("signal.svg", "Signal propagation"),
        ("saturation.svg", "Saturated and dead"),
        ("update-ratio.svg", "weight updates"),
        ("boundary.svg", "Decision boundaries"),
    ];
    for (file, title) in titles {
        let svg = fs::read_to_string(dir.path().join(file)).unwrap();
        assert_balanced(&svg, file);
        assert!(svg.contains(title), "{file} lacks its title");
        assert!(svg.contains("<text"), "{file} has no text");
        assert!(svg.len() < 200_000, "{file} is {} bytes", svg.len());
        if file != "boundary.svg" {
            for init in INITS {
                assert!(
                    svg.contains(&format!("\n{init}\n</text>")),
                    "{file} lacks legend entry {init}"
                );
            }
        }
    }
    let loss = fs::read_to_string(dir.path().join("loss.svg")).unwrap();
    assert!(
        loss.contains("run diverged"),
        "the diverged run is not marked"
    );
    assert!(loss.contains("tanh") && loss.contains("relu"));
}

#[test]
fn report_is_self_contained() {
    let dir = fixture();
    draw_all(dir.path(), &formulas()).unwrap();
    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<figure>\n<svg").count(), 6);
    // Besides the pictures, only the starts' line samples (summary rows and formulas).
    assert_eq!(
        html.matches("<svg").count() - 6,
        html.matches("<svg class=\"sw\"").count()
    );
    assert!(!html.to_lowercase().contains("<script"));
    let without_xmlns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_xmlns.contains("http://") && !without_xmlns.contains("https://"));
    // The description and the config contain "<matter> & how": escaped, never raw.
    assert!(!html.contains("<matter>"));
    assert!(html.contains("&lt;matter&gt; &amp; how"));
    assert!(html.contains("<pre>") && html.contains("learning_rate = 0.1"));
    // Formulas of the inits present only.
    assert!(html.contains("N(0, 2/fan_in)"));
    assert!(!html.contains("N(0, 1/fan_in)"));
    // Best final loss per activation is highlighted (one per activation).
    assert_eq!(html.matches("<span class=\"best\">").count(), 2 * 2 + 1);
    assert!(html.contains("xor-fixture"));
}

#[test]
fn missing_optional_files_skip_their_pictures() {
    let dir = fixture();
    for f in [
        "boundary.csv",
        "points.csv",
        "layers.csv",
        "summary.csv",
        "config.toml",
    ] {
        fs::remove_file(dir.path().join(f)).unwrap();
    }
    let written = draw_all(dir.path(), &[]).unwrap();
    assert_eq!(names(&written), ["loss.svg", "accuracy.svg", "report.html"]);
    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
}

#[test]
fn no_test_set_means_no_accuracy_picture() {
    let dir = fixture();
    let path = dir.path().join("metrics.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let mut cols: Vec<&str> = line.split(',').collect();
        if i > 0 {
            cols[7] = "";
            cols[8] = "";
        }
        out.push_str(&cols.join(","));
        out.push('\n');
    }
    fs::write(&path, out).unwrap();
    fs::remove_file(dir.path().join("boundary.csv")).unwrap();
    let written = names(&draw_all(dir.path(), &[]).unwrap());
    assert!(!written.contains(&"accuracy.svg".to_string()));
    assert!(written.contains(&"loss.svg".to_string()));
}

#[test]
fn bad_csv_names_file_and_line() {
    let dir = fixture();
    let path = dir.path().join("layers.csv");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("xor-fixture,tiny,tanh,1,9,1,0.0,not-a-number,,,,,\n");
    fs::write(&path, &text).unwrap();
    let line = text.lines().count();
    let err = format!("{:#}", draw_all(dir.path(), &[]).unwrap_err());
    assert!(err.contains("layers.csv"), "{err}");
    assert!(err.contains(&format!("line {line}")), "{err}");
    assert!(err.contains("activation_std"), "{err}");
    assert!(!dir.path().join("report.html").exists());
}

#[test]
fn missing_metrics_is_an_error() {
    let dir = fixture();
    fs::remove_file(dir.path().join("metrics.csv")).unwrap();
    let err = format!("{:#}", draw_all(dir.path(), &[]).unwrap_err());
    assert!(err.contains("metrics.csv"), "{err}");
}

#[test]
fn non_finite_and_empty_values_do_not_panic() {
    let dir = fixture();
    let header = fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    let header = header.lines().next().unwrap();
    let rows = [
        "e,zeros,tanh,1,0,NaN,,,,,false",
        "e,zeros,tanh,1,1,0,0.5,,,0,false",
        "e,zeros,tanh,1,2,-inf,,,,inf,true",
        "e,odd-one,tanh,1,0,,,,,,false",
    ];
    fs::write(
        dir.path().join("metrics.csv"),
        format!("{header}\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let lheader = fs::read_to_string(dir.path().join("layers.csv")).unwrap();
    let lheader = lheader.lines().next().unwrap();
    let lrows = [
        "e,zeros,tanh,1,0,1,0,0,0,,0,0,",
        "e,zeros,tanh,1,1,1,NaN,inf,,,-1,0,0",
    ];
    fs::write(
        dir.path().join("layers.csv"),
        format!("{lheader}\n{}\n", lrows.join("\n")),
    )
    .unwrap();
    for f in ["boundary.csv", "summary.csv"] {
        fs::remove_file(dir.path().join(f)).unwrap();
    }
    draw_all(dir.path(), &[]).unwrap();
    assert!(dir.path().join("report.html").exists());
}

/// Drawing is deterministic: the same results give the same files, byte for byte (so a
/// report can be diffed between two versions). To look at the pictures, set
/// `INITLAB_REPORT_OUT=/tmp/r` and the drawing goes there instead of into a temporary
/// directory; the checks are the same either way.
#[test]
fn drawing_twice_gives_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::env::var_os("INITLAB_REPORT_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("report"));
    fs::create_dir_all(&out).unwrap();
    let src = fixture();
    for f in FILES {
        fs::copy(src.path().join(f), out.join(f)).unwrap();
    }
    let first = draw_all(&out, &formulas()).unwrap();
    let bytes: Vec<Vec<u8>> = first.iter().map(|p| fs::read(p).unwrap()).collect();
    assert_eq!(first.len(), 7, "{:?}", names(&first));
    assert!(bytes.iter().all(|b| !b.is_empty()));
    let second = draw_all(&out, &formulas()).unwrap();
    assert_eq!(names(&second), names(&first));
    for (path, before) in second.iter().zip(&bytes) {
        assert!(
            fs::read(path).unwrap() == *before,
            "{} differs between two drawings",
            path.display()
        );
        println!("{}", path.display());
    }
}

#[test]
fn long_runs_are_thinned() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from(
        "experiment,init,activation,seed,epoch,train_loss,train_accuracy,test_loss,test_accuracy,gradient_norm,diverged\n",
    );
    for e in 0..3000 {
        let loss = 0.7 * (-(e as f64) / 500.0).exp() + 0.001;
        csv.push_str(&format!("long,he-normal,relu,1,{e},{loss},,,,,false\n"));
    }
    fs::write(dir.path().join("metrics.csv"), csv).unwrap();
    draw_all(dir.path(), &[]).unwrap();
    let svg = fs::read_to_string(dir.path().join("loss.svg")).unwrap();
    let most = svg
        .split("points=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().split_whitespace().count())
        .max()
        .unwrap();
    assert!(most > 100 && most <= 400, "longest line has {most} points");
    assert!(svg.len() < 40_000, "loss.svg is {} bytes", svg.len());
}

/// The legend line of `init` in an SVG: the stroke colour (lower case) and dash array
/// (empty if solid) of the line drawn just before its name.
fn legend_style(svg: &str, init: &str) -> Option<(String, String)> {
    let at = svg.find(&format!(">\n{init}\n</text>"))?;
    let start = svg[..at].rfind("<polyline")?;
    let tag = &svg[start..start + svg[start..].find("/>")?];
    let attr = |k: &str| {
        tag.split(&format!(" {k}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_string()
    };
    Some((
        attr("stroke").to_ascii_lowercase(),
        attr("stroke-dasharray"),
    ))
}

#[test]
fn every_start_has_one_distinct_style_in_every_picture_and_the_report() {
    // The fixture with `tiny` renamed to a variant of `huge`: same family, so the same
    // colour, told apart by the dash pattern.
    let dir = fixture();
    for f in FILES.iter().filter(|f| f.ends_with(".csv")) {
        let path = dir.path().join(f);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace(",tiny,", ",huge:std=5,")).unwrap();
    }
    draw_all(dir.path(), &formulas()).unwrap();
    let inits = ["huge:std=5", "huge", "xavier-normal", "he-normal"];
    let mut seen: Vec<(String, String)> = Vec::new();
    for file in [
        "loss.svg",
        "accuracy.svg",
        "signal.svg",
        "saturation.svg",
        "update-ratio.svg",
    ] {
        let svg = fs::read_to_string(dir.path().join(file)).unwrap();
        let styles: Vec<(String, String)> = inits
            .iter()
            .map(|i| {
                legend_style(&svg, i).unwrap_or_else(|| panic!("{file}: no legend line for {i}"))
            })
            .collect();
        for (i, a) in styles.iter().enumerate() {
            for (j, b) in styles.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "{file}: {} and {} look the same", inits[i], inits[j]);
            }
        }
        if seen.is_empty() {
            seen = styles;
        } else {
            assert_eq!(styles, seen, "{file}: a start changed style");
        }
        // The curves use the legend's styles: each dashed start has a dashed curve.
        for (color, dash) in seen.iter().filter(|(_, d)| !d.is_empty()) {
            let curve = format!(
                "stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"",
                color.to_ascii_uppercase()
            );
            assert!(svg.contains(&curve), "{file}: no curve drawn {curve}");
        }
    }
    assert_eq!(seen[0].0, seen[1].0, "a family shares its colour");
    assert!(seen[1].1.is_empty() && !seen[0].1.is_empty(), "{seen:?}");
    // The report's summary shows the same line samples.
    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    for (init, (color, dash)) in inits.iter().zip(&seen) {
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let sample = format!("stroke=\"{color}\" stroke-width=\"3\"{dash}/></svg>{init}</span>");
        assert!(html.contains(&sample), "report.html lacks {sample}");
    }
}
