//! `initlab autograder ASSIGNMENT_DIR --out autograder.zip`: Gradescope's autograder
//! bundle for an assignment, or with `--github-classroom` a GitHub Classroom template
//! directory ([`crate::autograder`] builds both).

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use crate::autograder::{self, Assignment, Budgets, BundleFiles};

/// Options of `initlab autograder`.
#[derive(Debug, Args)]
pub struct AutograderArgs {
    /// The assignment directory (e.g. assignments/derive-he): experiment files,
    /// visible.toml, hidden.toml.
    pub assignment: PathBuf,
    /// Where to write: the zip file (Gradescope), or the directory (--github-classroom;
    /// it must not exist or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Write a GitHub Classroom template (.github/workflows/classroom.yml, one test per
    /// visible expectation) instead of Gradescope's zip.
    #[arg(long)]
    pub github_classroom: bool,
    /// The experiment file graded by visible.toml and hidden.toml, when the assignment has
    /// several.
    #[arg(long, value_name = "FILE")]
    pub main: Option<String>,
    /// The initlab binary to put in: an x86-64 Linux executable, ideally static (`cargo
    /// build --release --target x86_64-unknown-linux-musl`) [default: this initlab].
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
    /// The graded run's --max-seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub max_seconds: f64,
    /// The graded run's --max-runs.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_runs: usize,
    /// The graded run's --max-memory (Gradescope's default container has 768 MB).
    #[arg(long, value_name = "SIZE", default_value = "512M")]
    pub max_memory: String,
}

/// `initlab autograder`.
pub fn run(args: AutograderArgs) -> Result<(), CliError> {
    if !(args.max_seconds.is_finite() && args.max_seconds > 0.0) {
        return Err(CliError::usage(format!(
            "--max-seconds must be a number of seconds > 0, got {}",
            args.max_seconds
        )));
    }
    if args.max_runs == 0 {
        return Err(CliError::usage("--max-runs must be at least 1, got 0"));
    }
    crate::memory::parse_size(&args.max_memory)
        .map_err(|e| CliError::usage(format!("--max-memory: {e}")))?;
    let budgets = Budgets {
        max_seconds: args.max_seconds,
        max_runs: args.max_runs,
        max_memory: args.max_memory.clone(),
    };
    let assignment =
        Assignment::read(&args.assignment, args.main.as_deref()).map_err(CliError::usage)?;
    let binary_path = match &args.binary {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| CliError::runtime(format!("cannot find this initlab's binary: {e}")))?,
    };
    let binary = std::fs::read(&binary_path).map_err(|e| {
        CliError::usage(format!(
            "--binary {}: cannot read: {e}",
            binary_path.display()
        ))
    })?;
    let is_static = autograder::linux_x86_64(&binary)
        .map_err(|e| CliError::usage(format!("{}: {e}", binary_path.display())))?;
    if !is_static {
        eprintln!(
            "warning: {} is dynamically linked: it runs only where the system's C library is \
             at least as new as the one it was built against; a static build runs on any \
             x86-64 Linux (`cargo build --release --target x86_64-unknown-linux-musl`, then \
             --binary target/x86_64-unknown-linux-musl/release/initlab)",
            binary_path.display()
        );
    }
    if args.github_classroom {
        let files =
            autograder::classroom_files(&assignment, &budgets, &binary).map_err(CliError::usage)?;
        write_dir(&args.out, &files)?;
        println!(
            "{}: GitHub Classroom template for {} ({} files; push it as the assignment's \
             template repository)",
            args.out.display(),
            assignment.name,
            files.len()
        );
    } else {
        let files = autograder::gradescope_files(&assignment, &budgets, &binary)
            .map_err(CliError::usage)?;
        crate::fsutil::write_atomic_with(&args.out, |w| autograder::write_zip(&files, w))
            .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", args.out.display())))?;
        let size = std::fs::metadata(&args.out).map_or(0, |m| m.len());
        println!(
            "{}: Gradescope autograder for {}, grading {} ({} expectations), {:.1} MB",
            args.out.display(),
            assignment.name,
            assignment.main.file,
            assignment.main.expectations.len(),
            size as f64 / 1e6
        );
    }
    Ok(())
}

/// Writes `files` under `dir`, which must not exist or be empty.
fn write_dir(dir: &std::path::Path, files: &BundleFiles) -> Result<(), CliError> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::usage(format!(
            "--out {}: exists and is not an empty directory; name a new one",
            dir.display()
        )));
    }
    let io = |e: std::io::Error| CliError::runtime(format!("cannot write {}: {e}", dir.display()));
    for (name, bytes, mode) in files {
        let path = dir.join(name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, bytes).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).map_err(io)?;
        }
        #[cfg(not(unix))]
        let _ = mode;
    }
    Ok(())
}
