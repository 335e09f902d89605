//! `initlab check RESULTS_DIR EXPECT.toml`: expectations checked against a results
//! directory, printed as a table (or JSON, Gradescope's `results.json`, JUnit XML); exit
//! code 4 when any expectation fails.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::CliError;
use crate::check::{self, Expectation, Verdict};

/// The exit code of `check` (and of an experiment with `[[expect]]` tables) when an
/// expectation does not hold.
pub const EXPECTATION_FAILED: u8 = 4;

/// Options of `initlab check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The results directory (e.g. results/xor).
    pub dir: PathBuf,
    /// The expectations file (`[[expect]]` tables), or an experiment file with `[[expect]]`
    /// tables.
    pub expectations: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Write the output to this file instead of stdout (e.g.
    /// /autograder/results/results.json).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// `--format` of `initlab check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A table for people.
    Table,
    /// JSON for scripts.
    Json,
    /// Gradescope's results.json.
    Gradescope,
    /// JUnit XML (GitHub Classroom, CI).
    Junit,
}

/// Reads the expectations of a file: its `[[expect]]` tables (an experiment file may hold
/// other keys too; they are the experiment's).
pub fn read_expectations(path: &Path) -> Result<Vec<Expectation>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "{}: cannot read expectations file: {e}",
            path.display()
        ))
    })?;
    let origin = path.display().to_string();
    let doc: toml::Table =
        toml::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text)).map_err(|e| {
            CliError::usage(format!(
                "{origin}: not valid TOML: {}",
                e.message().lines().next().unwrap_or("")
            ))
        })?;
    // An experiment file: take its [[expect]] tables; else the file is only expectations.
    if doc.contains_key("network") || doc.contains_key("training") {
        let tables = match doc.get("expect") {
            Some(toml::Value::Array(a)) => a.clone(),
            _ => {
                return Err(CliError::usage(format!(
                    "{origin}: an experiment file without [[expect]] tables"
                )));
            }
        };
        return check::expectation::from_tables(&tables, &origin).map_err(CliError::usage);
    }
    check::parse_expectations(&text, &origin).map_err(CliError::usage)
}

/// Checks, prints the table, and turns failures into exit code 4 (after the run of an
/// experiment with `[[expect]]` tables).
pub fn check_and_print(
    dir: &Path,
    expectations: &[Expectation],
    origin: &str,
) -> Result<(), CliError> {
    let verdicts = check::check_dir(dir, expectations)
        .map_err(|e| CliError::usage(format!("{origin}: {e}")))?;
    print!("{}", check::format::table(&verdicts));
    failures(&verdicts)
}

fn failures(verdicts: &[Verdict]) -> Result<(), CliError> {
    let failed = verdicts.iter().filter(|v| !v.passed).count();
    if failed == 0 {
        return Ok(());
    }
    Err(CliError {
        code: EXPECTATION_FAILED,
        message: format!("{failed} of {} expectations do not hold", verdicts.len()),
    })
}

/// `initlab check`.
pub fn run(args: CheckArgs) -> Result<(), CliError> {
    let expectations = read_expectations(&args.expectations)?;
    let verdicts = check::check_dir(&args.dir, &expectations)
        .map_err(|e| CliError::usage(format!("{}: {e}", args.expectations.display())))?;
    let suite = args
        .expectations
        .file_stem()
        .map_or("initlab".into(), |s| s.to_string_lossy().into_owned());
    let text = match args.format {
        CheckFormat::Table => check::format::table(&verdicts),
        CheckFormat::Json => check::format::json(&verdicts),
        CheckFormat::Gradescope => check::format::gradescope(&verdicts),
        CheckFormat::Junit => check::format::junit(&verdicts, &suite),
    };
    match &args.output {
        Some(path) => crate::fsutil::write_atomic_with(path, |w| w.write_all(text.as_bytes()))
            .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))?,
        None => print!("{text}"),
    }
    failures(&verdicts)
}
