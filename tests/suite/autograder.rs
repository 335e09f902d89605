//! `initlab autograder`: the Gradescope bundle of derive-he, unpacked into a directory laid
//! out like /autograder (`source/`, `submission/`, `results/`) and run by bash with four
//! submissions (the reference solution, a wrong one, a hostile one, none); and the GitHub
//! Classroom template of break-the-symmetry, checked file by file.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn u16_at(b: &[u8], o: usize) -> usize {
    u16::from_le_bytes([b[o], b[o + 1]]) as usize
}

fn u32_at(b: &[u8], o: usize) -> usize {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize
}

/// Unpacks a zip (no comment, no zip64) into `into`, setting each file's Unix mode as
/// `unzip` does; returns each name with its mode.
fn unzip(bytes: &[u8], into: &Path) -> Vec<(String, u32)> {
    let end = bytes.len() - 22;
    assert_eq!(&bytes[end..end + 4], b"PK\x05\x06");
    let count = u16_at(bytes, end + 10);
    let mut at = u32_at(bytes, end + 16);
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(&bytes[at..at + 4], b"PK\x01\x02");
        let method = u16_at(bytes, at + 10);
        let crc = u32_at(bytes, at + 16);
        let compressed = u32_at(bytes, at + 20);
        let size = u32_at(bytes, at + 24);
        let (name_len, extra, comment) = (
            u16_at(bytes, at + 28),
            u16_at(bytes, at + 30),
            u16_at(bytes, at + 32),
        );
        let mode = (u32_at(bytes, at + 38) >> 16) as u32;
        let local = u32_at(bytes, at + 42);
        let name = String::from_utf8(bytes[at + 46..at + 46 + name_len].to_vec()).unwrap();
        at += 46 + name_len + extra + comment;
        let path = into.join(&name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap();
        } else {
            let start = local + 30 + u16_at(bytes, local + 26) + u16_at(bytes, local + 28);
            let body = &bytes[start..start + compressed];
            let data = match method {
                0 => body.to_vec(),
                8 => {
                    let mut out = Vec::new();
                    flate2::read::DeflateDecoder::new(body)
                        .read_to_end(&mut out)
                        .unwrap();
                    out
                }
                m => panic!("{name}: method {m}"),
            };
            assert_eq!(data.len(), size, "{name}");
            let mut c = flate2::Crc::new();
            c.update(&data);
            assert_eq!(c.sum() as usize, crc, "{name}");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, data).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))
                .unwrap();
        }
        entries.push((name, mode));
    }
    entries
}

/// Copies the directory `from` to `to` (file modes kept).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Lays out `dir` as Gradescope does: the unpacked bundle `unpacked` as `dir/source`,
/// `submission` (if any) as `dir/submission/deep-relu.toml`; runs `bash run_autograder`
/// with AUTOGRADER_ROOT=dir and returns results.json as text.
fn grade(unpacked: &Path, dir: &Path, submission: Option<&str>) -> String {
    copy_dir(unpacked, &dir.join("source"));
    std::fs::create_dir_all(dir.join("submission")).unwrap();
    std::fs::create_dir_all(dir.join("results")).unwrap();
    if let Some(text) = submission {
        std::fs::write(dir.join("submission/deep-relu.toml"), text).unwrap();
    }
    let out = std::process::Command::new("bash")
        .arg(dir.join("source/run_autograder"))
        .env("AUTOGRADER_ROOT", dir)
        .output()
        .unwrap();
    crate::assert_success(&out);
    std::fs::read_to_string(dir.join("results/results.json")).unwrap()
}

fn failed_tests(json: &serde_json::Value) -> BTreeSet<String> {
    json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "failed")
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// `initlab autograder DIR` (more arguments to add).
fn autograder(assignment: &Path) -> Command {
    let mut cmd = Command::cargo_bin("initlab").unwrap();
    cmd.arg("autograder").arg(assignment);
    cmd
}

#[test]
fn gradescope_bundle_grades_reference_wrong_and_hostile_submissions() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("autograder.zip");
    let assignment = root().join("assignments/derive-he");
    autograder(&assignment)
        .arg("--out")
        .arg(&zip)
        .assert()
        .success();
    let bundle = std::fs::read(&zip).unwrap();

    // The layout: the scripts and the binary executable, the data where the handout's
    // `../../data/digits.csv` finds it from the submission's place.
    let unpacked = tmp.path().join("unpacked");
    let listing = unzip(&bundle, &unpacked);
    let mode = |name: &str| {
        listing
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not in {listing:?}"))
            .1
    };
    for exe in ["setup.sh", "run_autograder", "initlab"] {
        assert_eq!(mode(exe), 0o100_755, "{exe}");
    }
    assert_eq!(mode("expectations.toml"), 0o100_644);
    assert_eq!(mode("tree/data/digits.csv"), 0o100_644);
    assert_eq!(mode("tree/assignments/derive-he/") & 0o170_000, 0o040_000);
    eprintln!("bundle: {} bytes", bundle.len());

    // What a student submits: the handed-out file, its TODO done.
    let reference = std::fs::read_to_string(assignment.join("solution/deep-relu.toml"))
        .unwrap()
        .replace("../../../data", "../../data");
    let reference_line = r#"{ name = "formula", std = "sqrt(2 / fan_in)", label = "mine" }"#;
    assert!(reference.contains(reference_line));

    let json = grade(&unpacked, &tmp.path().join("reference"), Some(&reference));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let max: f64 = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["max_score"].as_f64().unwrap())
        .sum();
    assert_eq!(v["score"].as_f64(), Some(max), "{json}");
    assert_eq!(max, 10.0);
    assert!(failed_tests(&v).is_empty(), "{json}");
    eprintln!("reference: {} of {max}", v["score"]);

    // LeCun's variance, the factor 2 forgotten: the same four expectations fail as in
    // tests/assignments.rs; the two controls hold.
    let wrong = reference.replace(
        reference_line,
        r#"{ name = "formula", variance = "1 / fan_in", label = "mine" }"#,
    );
    let json = grade(&unpacked, &tmp.path().join("wrong"), Some(&wrong));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["score"].as_f64(), Some(2.0), "{json}");
    let expected: BTreeSet<String> = [
        "your start's weights have He's std at layer 2 (fan_in = 64)",
        "your start holds the signal through 30 ReLU layers",
        "your start trains the 30-layer network",
        "your start is He's, weight for weight",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(failed_tests(&v), expected);
    eprintln!("wrong: {} of {max}", v["score"]);

    // Hostile: the data read from the hidden expectations, by a relative and an absolute
    // path. A score of 0, a message, and no line of the hidden expectations anywhere.
    let hidden = std::fs::read_to_string(assignment.join("hidden.toml")).unwrap();
    for i in 0..2 {
        let dir = tmp.path().join(format!("hostile-{i}"));
        let secret = dir.join("source/expectations.toml");
        let path = match i {
            0 => "../../../expectations.toml",
            _ => secret.to_str().unwrap(),
        };
        let hostile = reference.replace("../../data/digits.csv", path);
        let json = grade(&unpacked, &dir, Some(&hostile));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["score"].as_f64(), Some(0.0), "{json}");
        let output = v["output"].as_str().unwrap();
        assert!(
            output.contains("could not run your deep-relu.toml"),
            "{output}"
        );
        assert!(
            output.contains("no such data file inside the data root"),
            "{output}"
        );
        let shipped = std::fs::read_to_string(dir.join("source/expectations.toml")).unwrap();
        for line in hidden.lines().chain(shipped.lines()) {
            let line = line.trim();
            if !line.is_empty() {
                assert!(!json.contains(line), "`{line}` leaked: {json}");
            }
        }
        for name in ["trains the 30-layer", "weight for weight", "ln 10 = 2.303"] {
            assert!(!json.contains(name), "{name} leaked: {json}");
        }
        if i == 0 {
            eprintln!("hostile: {}: {output}", v["score"]);
        }
    }

    // Nothing submitted: 0 and what to submit.
    let json = grade(&unpacked, &tmp.path().join("empty"), None);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["score"].as_f64(), Some(0.0));
    assert!(
        v["output"]
            .as_str()
            .unwrap()
            .contains("No file named deep-relu.toml")
    );
}

#[test]
fn bad_assignments_and_binaries_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // Two experiment files and no --main.
    autograder(&root().join("assignments/break-the-symmetry"))
        .arg("--out")
        .arg(tmp.path().join("a.zip"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--main FILE"));
    // A binary that is not an x86-64 Linux executable.
    let script = tmp.path().join("initlab.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    autograder(&root().join("assignments/derive-he"))
        .arg("--binary")
        .arg(&script)
        .arg("--out")
        .arg(tmp.path().join("a.zip"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not an x86-64 Linux executable"));
    assert!(!tmp.path().join("a.zip").exists());
}

#[test]
fn github_classroom_template() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("classroom");
    let assignment = root().join("assignments/break-the-symmetry");
    autograder(&assignment)
        .args(["--github-classroom", "--main", "xor.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    // The student's files (generated data: none to carry), no hidden expectations, no
    // solution.
    for f in ["handout.md", "xor.toml", "circles.toml", "visible.toml"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(!out.join("hidden.toml").exists() && !out.join("solution").exists());
    let mode = std::fs::metadata(out.join(".github/initlab/initlab"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111);

    let yaml = std::fs::read_to_string(out.join(".github/workflows/classroom.yml")).unwrap();
    // YAML structure: spaces only, even indentation, the workflow's top-level keys.
    assert!(!yaml.contains('\t'));
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        assert_eq!(indent % 2, 0, "{line}");
    }
    let top: Vec<&str> = yaml
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
        .collect();
    assert_eq!(
        top,
        ["name: Autograding Tests", "'on':", "permissions:", "jobs:"]
    );
    // One test per expectation: xor's visible ones (5 points) and circles.toml's own (2).
    let ids: Vec<&str> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("id: "))
        .collect();
    assert_eq!(ids, ["e01", "e02", "e03", "e04", "e05", "e06"]);
    assert_eq!(
        yaml.matches("uses: classroom-resources/autograding-command-grader@v1")
            .count(),
        6
    );
    let points: u32 = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("max-score: "))
        .map(|p| p.parse::<u32>().unwrap())
        .sum();
    assert_eq!(points, 7);
    for id in &ids {
        assert!(yaml.contains(&format!(
            "{}_RESULTS: \"${{{{steps.{id}.outputs.result}}}}\"",
            id.to_uppercase()
        )));
        let expect =
            std::fs::read_to_string(out.join(format!(".github/initlab/{id}.toml"))).unwrap();
        assert_eq!(expect.matches("[[expect]]").count(), 1, "{expect}");
    }
    assert!(yaml.contains("runners: e01,e02,e03,e04,e05,e06"));
    assert!(yaml.contains("uses: classroom-resources/autograding-grading-reporter@v1"));
    assert!(
        yaml.contains(
            "command: .github/initlab/initlab check 'results/xor' .github/initlab/e01.toml"
        )
    );
    assert!(yaml.contains("--save-weights"));
    // Hidden expectations stay out of the student's repository.
    let hidden = std::fs::read_to_string(assignment.join("hidden.toml")).unwrap();
    for entry in walk(&out) {
        if entry.ends_with("initlab") {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("your start solves XOR"),
            "{}",
            entry.display()
        );
        assert!(!text.contains("75 % at best"), "{}", entry.display());
    }
    assert!(hidden.contains("your start solves XOR"));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
