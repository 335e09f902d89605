//! `initlab autograder ASSIGNMENT_DIR`: an assignment (see `assignments/`) turned into a
//! ready autograder — Gradescope's bundle (`autograder.zip`: `setup.sh`, `run_autograder`,
//! an initlab binary, the expectations and the data) or a GitHub Classroom template
//! (`.github/workflows/classroom.yml` with one test per expectation).
//!
//! An assignment directory holds experiment files (every `*.toml` but `visible.toml` and
//! `hidden.toml`), the expectations and anything else (handout, `solution/`). One experiment
//! file is graded against `visible.toml`, `hidden.toml` and its own `[[expect]]` tables
//! (taken from the instructor's copy, not the student's): the only one, or the one named
//! by `--main`.
//!
//! Data files: the experiment files name them relative to themselves (`../../data/digits.csv`).
//! The bundle keeps those paths working by carrying the part of the course tree they span:
//! `tree/` holds each data file at its place relative to the assignment directory, and
//! `run_autograder` copies the submitted file into `tree/<the assignment's place>/`, so the
//! handout's relative paths resolve inside `tree/`, the `--data-root` of the graded run.

pub mod zip;

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::check::Expectation;
use crate::experiment::spec::ExperimentSpec;

/// The budgets of the graded run (`initlab experiment` flags).
#[derive(Clone, Debug, PartialEq)]
pub struct Budgets {
    /// `--max-seconds`.
    pub max_seconds: f64,
    /// `--max-runs`.
    pub max_runs: usize,
    /// `--max-memory`, as given (e.g. `512M`).
    pub max_memory: String,
}

/// One experiment file of an assignment and the expectations that grade it.
#[derive(Clone, Debug)]
pub struct Graded {
    /// Its file name (e.g. `deep-relu.toml`), the name the student submits.
    pub file: String,
    /// Its expectations, as TOML tables: its own `[[expect]]` tables, then (for the main
    /// file) those of `visible.toml` and `hidden.toml`.
    pub tables: Vec<toml::Value>,
    /// The same, parsed (and so checked).
    pub expectations: Vec<Expectation>,
}

impl Graded {
    /// The expectations as one TOML file of `[[expect]]` tables.
    pub fn expectations_toml(&self) -> String {
        expect_toml(&self.tables)
    }

    /// Whether grading needs the saved weights (`distinct_units`).
    pub fn needs_weights(&self) -> bool {
        crate::check::needs_weights(&self.expectations)
    }
}

/// `[[expect]]` tables as a TOML file.
fn expect_toml(tables: &[toml::Value]) -> String {
    let mut doc = toml::Table::new();
    doc.insert("expect".into(), toml::Value::Array(tables.to_vec()));
    toml::to_string(&doc).expect("TOML read from a file serializes")
}

/// An assignment directory, read and checked.
#[derive(Clone, Debug)]
pub struct Assignment {
    /// The directory's name (e.g. `derive-he`).
    pub name: String,
    /// The directory, canonical.
    pub dir: PathBuf,
    /// The graded experiment file.
    pub main: Graded,
    /// The other experiment files, graded on their own `[[expect]]` tables (GitHub
    /// Classroom only; the Gradescope bundle grades the main file).
    pub others: Vec<Graded>,
    /// The common ancestor of the directory and every data file named (the root of `tree/`).
    pub tree_root: PathBuf,
    /// Every data file the experiment files name, canonical, sorted.
    pub data: Vec<PathBuf>,
}

/// Reads the `[[expect]]` tables of a TOML file (an expectations file or an experiment).
fn expect_tables(path: &Path) -> Result<Vec<toml::Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let doc: toml::Table =
        toml::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text)).map_err(|e| {
            format!(
                "{}: not valid TOML: {}",
                path.display(),
                e.message().lines().next().unwrap_or("")
            )
        })?;
    match doc.get("expect") {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(a)) => Ok(a.clone()),
        Some(_) => Err(format!(
            "{}: `expect` must be [[expect]] tables",
            path.display()
        )),
    }
}

/// The data files an experiment file names, resolved relative to it and canonical.
fn data_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let spec = ExperimentSpec::from_toml(&text, &path.display().to_string()).map_err(|e| e.0)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let named = [
        ("data.path", &spec.data.path),
        ("data.images", &spec.data.images),
        ("data.labels", &spec.data.labels),
    ];
    let mut files = Vec::new();
    for (key, value) in named {
        let Some(p) = value else { continue };
        let found = base.join(p);
        if p.is_absolute() || !found.is_file() {
            return Err(format!(
                "{}: `{key}` = {:?} is not a file relative to the experiment file; a bundle \
                 carries the data files that the experiment files name relative to \
                 themselves, so that the student's paths work unchanged",
                path.display(),
                p.display()
            ));
        }
        files.push(
            found
                .canonicalize()
                .map_err(|e| format!("{}: {e}", found.display()))?,
        );
    }
    Ok(files)
}

/// The deepest directory containing every path of `paths` (all absolute).
fn common_ancestor(paths: &[PathBuf]) -> PathBuf {
    let mut common: Vec<Component> = paths[0].components().collect();
    for p in &paths[1..] {
        let same = common
            .iter()
            .zip(p.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        common.truncate(same);
    }
    common.iter().collect()
}

impl Assignment {
    /// Reads the assignment in `dir`; `main` names the graded experiment file when there
    /// are several. Every expectation is parsed, and every data file must exist.
    pub fn read(dir: &Path, main: Option<&str>) -> Result<Self, String> {
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("{}: not an assignment directory: {e}", dir.display()))?;
        if !dir.is_dir() {
            return Err(format!("{}: not a directory", dir.display()));
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "assignment".into());
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml") && n != "visible.toml" && n != "hidden.toml")
            .collect();
        files.sort();
        let main = match (main, files.as_slice()) {
            (Some(m), _) if files.iter().any(|f| f == m) => m.to_string(),
            (Some(m), _) => {
                return Err(format!(
                    "--main {m}: not an experiment file of {}; it has: {}",
                    dir.display(),
                    if files.is_empty() {
                        "none".to_string()
                    } else {
                        files.join(", ")
                    }
                ));
            }
            (None, [only]) => only.clone(),
            (None, []) => {
                return Err(format!(
                    "{}: no experiment file (a *.toml besides visible.toml and hidden.toml)",
                    dir.display()
                ));
            }
            (None, _) => {
                return Err(format!(
                    "{} has {} experiment files ({}): name the one that visible.toml and \
                     hidden.toml grade with --main FILE",
                    dir.display(),
                    files.len(),
                    files.join(", ")
                ));
            }
        };
        let mut data = Vec::new();
        let mut main_graded = None;
        let mut others = Vec::new();
        for file in &files {
            let path = dir.join(file);
            data.extend(data_files(&path)?);
            let mut tables = expect_tables(&path)?;
            if *file == main {
                for extra in ["visible.toml", "hidden.toml"] {
                    let p = dir.join(extra);
                    if p.exists() {
                        tables.extend(expect_tables(&p)?);
                    }
                }
            }
            let origin = format!("{} (with visible.toml and hidden.toml)", path.display());
            let expectations = crate::check::expectation::from_tables(&tables, &origin)?;
            let graded = Graded {
                file: file.clone(),
                tables,
                expectations,
            };
            if *file == main {
                main_graded = Some(graded);
            } else {
                others.push(graded);
            }
        }
        let main = main_graded.expect("main is one of the files");
        if main.expectations.is_empty() {
            return Err(format!(
                "{}: nothing to grade {}: no [[expect]] tables in visible.toml, hidden.toml \
                 or the file itself",
                dir.display(),
                main.file
            ));
        }
        data.sort();
        data.dedup();
        let mut places = vec![dir.clone()];
        places.extend(data.iter().map(|d| d.parent().unwrap_or(d).to_path_buf()));
        let tree_root = common_ancestor(&places);
        Ok(Assignment {
            name,
            dir,
            main,
            others,
            tree_root,
            data,
        })
    }

    /// The assignment directory's place in `tree/`, with `/` separators (empty when the
    /// directory is the tree's root).
    pub fn place(&self) -> String {
        slash_path(
            self.dir
                .strip_prefix(&self.tree_root)
                .unwrap_or(Path::new("")),
        )
    }

    /// Each data file with its place in `tree/`.
    pub fn data_places(&self) -> Vec<(PathBuf, String)> {
        self.data
            .iter()
            .map(|d| {
                let rel = d.strip_prefix(&self.tree_root).unwrap_or(d);
                (d.clone(), slash_path(rel))
            })
            .collect()
    }
}

/// A relative path with `/` separators.
fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `text` quoted for bash: in single quotes, each `'` written `'\''`.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Gradescope's `setup.sh`: nothing to install; it checks that the bundled binary runs on
/// the image, so that a wrong binary fails the image build instead of every submission.
pub fn setup_sh(a: &Assignment) -> String {
    format!(
        r#"#!/usr/bin/env bash
# Gradescope's setup.sh for the initlab assignment {name}, written by `initlab autograder`.
# Nothing to install: the bundle carries its own initlab binary. This only checks that the
# binary runs on this image, so that a wrong binary fails here, once, and not for every
# submission.
set -e
SOURCE="${{AUTOGRADER_ROOT:-/autograder}}/source"
chmod +x "$SOURCE/initlab" "$SOURCE/run_autograder"
"$SOURCE/initlab" --version
"#,
        name = a.name
    )
}

/// Gradescope's `run_autograder`: copies the submitted experiment file to its place in
/// `tree/`, runs it in the untrusted mode with `budgets`, then checks its results against
/// the expectations, writing `results.json`; any failure still writes a `results.json`
/// (score 0, a message for the student that quotes only initlab's own messages about the
/// student's file).
pub fn run_autograder(a: &Assignment, budgets: &Budgets) -> String {
    let file = sh_quote(&a.main.file);
    let place = sh_quote(&a.place());
    let weights = if a.main.needs_weights() {
        " --save-weights"
    } else {
        ""
    };
    let limits = format!(
        "--max-seconds {} --max-runs {} --max-memory {}",
        budgets.max_seconds,
        budgets.max_runs,
        sh_quote(&budgets.max_memory)
    );
    let mut s = String::new();
    let _ = write!(
        s,
        r#"#!/usr/bin/env bash
# Gradescope's run_autograder for the initlab assignment {name}, written by
# `initlab autograder`. Gradescope unpacks the bundle in /autograder/source, puts the
# student's files in /autograder/submission and reads /autograder/results/results.json,
# which this script writes whatever happens. AUTOGRADER_ROOT replaces /autograder, to try
# the bundle on your own machine (make source/, submission/ and results/ in a directory).

ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results/results.json"
INITLAB="$SOURCE/initlab"
# The experiment file the student submits, and where it goes: its data paths, relative to
# it as in the handout, resolve inside tree/, the only directory it may read data from.
FILE={file}
PLACE="$SOURCE/tree/"{place}
EXPECTATIONS="$SOURCE/expectations.toml"
mkdir -p "$ROOT/results"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# $1 as the inside of a JSON string: control characters dropped, then backslashes,
# quotes, tabs and line breaks escaped.
json_text() {{
  local s bs='\' q='"' nl=$'\n' tab=$'\t'
  s="$(printf '%s' "$1" | LC_ALL=C tr -d '\000-\010\013-\037')"
  s="${{s//"$bs"/"$bs$bs"}}"
  s="${{s//"$q"/"$bs$q"}}"
  s="${{s//"$tab"/"${{bs}}t"}}"
  s="${{s//"$nl"/"${{bs}}n"}}"
  printf '%s' "$s"
}}

# Writes a results.json with score 0 and the message $1 for the student, and stops.
fail() {{
  printf '{{\n  "score": 0,\n  "output": "%s",\n  "tests": []\n}}\n' "$(json_text "$1")" > "$RESULTS"
  echo "graded 0: $1"
  exit 0
}}

# The submitted file: a regular file (not a link) of that name, anywhere in the submission.
FOUND="$(find "$ROOT/submission" -type f -name "$FILE" 2>/dev/null | LC_ALL=C sort | head -n 1)"
if [ -z "$FOUND" ]; then
  fail "No file named $FILE was found in your submission. Submit the assignment's experiment file, named $FILE as handed out."
fi
mkdir -p "$PLACE" && cp -- "$FOUND" "$PLACE/$FILE" ||
  fail "The autograder could not copy your $FILE. This is not your fault: please tell your instructor."

# The run: untrusted mode (data only from tree/, no file quoted), with budgets.
"$INITLAB" experiment "$PLACE/$FILE" --untrusted --data-root "$SOURCE/tree" \
  --out "$WORK/results" {limits}{weights} --quiet --no-plots \
  > "$WORK/experiment.out" 2> "$WORK/experiment.err"
CODE=$?
echo "initlab experiment: exit code $CODE"
cat "$WORK/experiment.err"
NOTE=""
case "$CODE" in
  0|4) ;; # 4: the file's own [[expect]] tables failed; they are graded below, as handed out
  5) NOTE="Your experiment was stopped by the autograder's budget ({budget_words}) before every run finished, so only the finished runs were graded. " ;;
  126|127) fail "The autograder's initlab binary could not be started on this machine. This is not your fault: please tell your instructor." ;;
  *) fail "initlab could not run your $FILE (exit code $CODE):
$(head -n 20 "$WORK/experiment.err")" ;;
esac

# The grading: the instructor's expectations (visible and hidden) against the results.
"$INITLAB" check "$WORK/results" "$EXPECTATIONS" --format gradescope --output "$RESULTS" \
  > /dev/null 2> "$WORK/check.err"
CODE=$?
echo "initlab check: exit code $CODE"
case "$CODE" in
  0|4) ;;
  *) fail "${{NOTE}}Your results could not be graded: an expectation asks for a start, activation, epoch or layer that they do not have. Keep the starts' labels and the experiment's settings as handed out, and change only what the assignment asks you to." ;;
esac
if [ -n "$NOTE" ]; then
  sed -i "0,/\"output\": \"/s||\"output\": \"$NOTE|" "$RESULTS"
fi
exit 0
"#,
        name = a.name,
        budget_words = format_args!(
            "at most {} seconds and {} runs",
            budgets.max_seconds, budgets.max_runs
        ),
    );
    s
}

/// A bundle's files: `(name, contents, Unix mode)`, directories as names ending in `/`
/// with empty contents.
pub type BundleFiles = Vec<(String, Vec<u8>, u32)>;

/// Every file of the Gradescope bundle, in the order they go into the zip.
pub fn gradescope_files(
    a: &Assignment,
    budgets: &Budgets,
    binary: &[u8],
) -> Result<BundleFiles, String> {
    let mut files: BundleFiles = vec![
        ("setup.sh".into(), setup_sh(a).into_bytes(), 0o755),
        (
            "run_autograder".into(),
            run_autograder(a, budgets).into_bytes(),
            0o755,
        ),
        ("initlab".into(), binary.to_vec(), 0o755),
        (
            "expectations.toml".into(),
            a.main.expectations_toml().into_bytes(),
            0o644,
        ),
    ];
    // The directories of tree/ (the submission's place among them), then the data.
    let mut dirs = std::collections::BTreeSet::new();
    let mut add_parents = |rel: &str| {
        let mut prefix = String::from("tree");
        dirs.insert(prefix.clone());
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            prefix = format!("{prefix}/{part}");
            dirs.insert(prefix.clone());
        }
    };
    add_parents(&a.place());
    let data = a.data_places();
    for (_, rel) in &data {
        add_parents(rel.rsplit_once('/').map_or("", |(d, _)| d));
    }
    for d in dirs {
        files.push((format!("{d}/"), Vec::new(), 0o755));
    }
    for (path, rel) in data {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push((format!("tree/{rel}"), bytes, 0o644));
    }
    Ok(files)
}

/// Writes `files` as a zip archive into `out`.
pub fn write_zip(files: &BundleFiles, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut zip = zip::ZipWriter::new(out);
    for (name, bytes, mode) in files {
        if name.ends_with('/') {
            zip.directory(name)?;
        } else {
            zip.file(name, bytes, *mode)?;
        }
    }
    zip.finish()?;
    Ok(())
}

/// What a binary file is, for the bundle: it must be an x86-64 Linux executable (ELF,
/// 64-bit, little-endian, machine 62); `Ok(true)` when it is statically linked (no
/// `PT_INTERP` program header).
pub fn linux_x86_64(bytes: &[u8]) -> Result<bool, String> {
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    if bytes.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) || u16_at(18) != Some(62) {
        return Err(
            "not an x86-64 Linux executable (64-bit little-endian ELF for machine x86-64), \
             which is what Gradescope runs"
                .into(),
        );
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(32), u16_at(54), u16_at(56)) else {
        return Err("a truncated ELF file".into());
    };
    const PT_INTERP: u32 = 3;
    let interp = (0..usize::from(phnum)).any(|i| {
        usize::try_from(phoff)
            .ok()
            .and_then(|o| o.checked_add(i * usize::from(phentsize)))
            .and_then(u32_at)
            == Some(PT_INTERP)
    });
    Ok(!interp)
}

/// `text` as a double-quoted YAML scalar.
fn yaml_quote(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c if c.is_control() => {}
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A file name's stem, for a results directory (`xor.toml` → `xor`).
fn stem(file: &str) -> &str {
    file.strip_suffix(".toml").unwrap_or(file)
}

/// The GitHub Classroom template's files: the assignment's files for the student (all but
/// `hidden.toml` and subdirectories such as `solution/`) and the data at their places,
/// the binary and one expectations file per expectation under `.github/initlab/`, and
/// `.github/workflows/classroom.yml`, which runs each experiment file and then one
/// autograding test per expectation (`initlab check`, exit code 0 for its points).
/// Hidden expectations stay out: a student's repository hides nothing.
pub fn classroom_files(
    a: &Assignment,
    budgets: &Budgets,
    binary: &[u8],
) -> Result<BundleFiles, String> {
    let mut files: BundleFiles = vec![(".github/initlab/initlab".into(), binary.to_vec(), 0o755)];
    let place = a.place();
    let in_place = |name: &str| {
        if place.is_empty() {
            name.to_string()
        } else {
            format!("{place}/{name}")
        }
    };
    let mut handed_out: Vec<_> = std::fs::read_dir(&a.dir)
        .map_err(|e| format!("{}: {e}", a.dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file() && e.file_name() != "hidden.toml")
        .map(|e| e.path())
        .collect();
    handed_out.sort();
    for path in handed_out {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_name().expect("a file").to_string_lossy();
        files.push((in_place(&name), bytes, 0o644));
    }
    for (path, rel) in a.data_places() {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push((rel, bytes, 0o644));
    }
    let hidden_tables = expect_tables(&a.dir.join("hidden.toml")).unwrap_or_default();
    let mut yaml = String::from(
        "# GitHub Classroom autograding, written by `initlab autograder --github-classroom`:\n\
         # each experiment file runs, then each expectation is one test, `initlab check` with\n\
         # its exit code (0: the expectation holds, its points are earned).\n\
         name: Autograding Tests\n\
         'on':\n  - push\n  - repository_dispatch\n\
         permissions:\n  checks: write\n  actions: read\n  contents: read\n\
         jobs:\n  run-autograding-tests:\n    runs-on: ubuntu-latest\n\
         \x20   if: github.actor != 'github-classroom[bot]'\n    steps:\n\
         \x20     - name: Checkout code\n        uses: actions/checkout@v4\n\
         \x20     - name: Make initlab executable\n        run: chmod +x .github/initlab/initlab\n",
    );
    let limits = format!(
        "--max-seconds {} --max-runs {} --max-memory {}",
        budgets.max_seconds, budgets.max_runs, budgets.max_memory
    );
    let mut runners = Vec::new();
    let mut tests = String::new();
    for g in std::iter::once(&a.main).chain(&a.others) {
        let weights = if g.needs_weights() {
            " --save-weights"
        } else {
            ""
        };
        let _ = write!(
            yaml,
            "      - name: {}\n        continue-on-error: true\n        run: >-\n\
             \x20         .github/initlab/initlab experiment {}\n\
             \x20         --out {} {limits}{weights} --quiet --no-plots\n",
            yaml_quote(&format!("Run {}", g.file)),
            sh_quote(&in_place(&g.file)),
            sh_quote(&format!("results/{}", stem(&g.file))),
        );
        for (table, e) in g.tables.iter().zip(&g.expectations) {
            if hidden_tables.contains(table) {
                continue;
            }
            if e.points.fract() != 0.0 || e.points < 0.0 {
                return Err(format!(
                    "expectation `{}`: {} points; GitHub Classroom counts whole points",
                    e.name, e.points
                ));
            }
            let id = format!("e{:02}", runners.len() + 1);
            let expect_file = format!(".github/initlab/{id}.toml");
            files.push((
                expect_file.clone(),
                expect_toml(std::slice::from_ref(table)).into_bytes(),
                0o644,
            ));
            let _ = write!(
                tests,
                "      - name: {}\n        id: {id}\n\
                 \x20       uses: classroom-resources/autograding-command-grader@v1\n\
                 \x20       with:\n          test-name: {}\n\
                 \x20         command: .github/initlab/initlab check {} {expect_file}\n\
                 \x20         timeout: 10\n          max-score: {}\n",
                yaml_quote(&e.name),
                yaml_quote(&e.name),
                sh_quote(&format!("results/{}", stem(&g.file))),
                e.points
            );
            runners.push(id);
        }
    }
    yaml.push_str(&tests);
    yaml.push_str(
        "      - name: Autograding Reporter\n\
         \x20       uses: classroom-resources/autograding-grading-reporter@v1\n        env:\n",
    );
    for id in &runners {
        let _ = writeln!(
            yaml,
            "          {}_RESULTS: \"${{{{steps.{id}.outputs.result}}}}\"",
            id.to_uppercase()
        );
    }
    let _ = writeln!(
        yaml,
        "        with:\n          runners: {}",
        runners.join(",")
    );
    files.push((
        ".github/workflows/classroom.yml".into(),
        yaml.into_bytes(),
        0o644,
    ));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(yaml_quote("He's \"std\"\n"), r#""He's \"std\"\n""#);
        assert_eq!(
            common_ancestor(&["/a/b/c".into(), "/a/d".into()]),
            PathBuf::from("/a")
        );
    }

    #[test]
    fn only_x86_64_elf_is_accepted() {
        assert!(linux_x86_64(b"#!/bin/sh\n").is_err());
        let mut elf = vec![0u8; 64];
        elf[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1]);
        elf[18] = 62;
        // No program headers: static.
        assert_eq!(linux_x86_64(&elf), Ok(true));
        elf[18] = 183; // aarch64
        assert!(linux_x86_64(&elf).is_err());
    }
}
