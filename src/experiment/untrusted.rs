//! Running experiment files one does not trust (`initlab experiment FILE --untrusted
//! --data-root DIR`), as an instructor grading students' files does: every data file the
//! experiment names must be, once symbolic links are followed, a regular file inside one
//! of the allowed directories (the `--data-root`s and the built-in data sets shipped in
//! initlab's `data/`), and errors about a data file's content quote none of it
//! ([`crate::data::DataError::without_contents`]).
//!
//! A refused path gets the same message whether it lies outside the roots, does not
//! exist, or is not a regular file, so the message tells nothing about files outside the
//! roots, not even whether they exist.

use std::path::{Path, PathBuf};

use super::spec::{ExperimentSpec, InitEntry, resolve_path};

/// Stack of the thread TOML is parsed on. The `toml` crate bounds nesting (80 arrays or
/// inline tables, each key of up to 80 dotted parts: some 6,400 levels), but deserializing
/// that deep takes more than the 2 MiB stack of a spawned thread (measured: ~6,400 levels
/// overflow 2 MiB, fit in 8 MiB), so it runs on a thread of its own with room to spare;
/// only the pages touched are used.
const PARSE_STACK: usize = 64 << 20;

/// Deepest nesting of a free-form value accepted in an experiment file (an `[[expect]]`
/// table, a start's parameter): far more than any needs (`seeds = { at_least = 3 }` is 2),
/// and shallow enough for any stack to clone, compare and drop.
pub const MAX_VALUE_DEPTH: usize = 32;

/// Runs `f` (a parse) on a thread with a [`PARSE_STACK`] stack and returns its result, or
/// on this thread if no thread can be started.
pub(crate) fn on_parse_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut s| s.take());
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, || take().map(|f| f()));
        match spawned.map(|h| h.join()) {
            Ok(Ok(Some(result))) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            _ => (take().expect("not run on the parse thread"))(),
        }
    })
}

/// Depth of a TOML value: 1 for a scalar, one more per array or table around it
/// (recursive: call it on the parse thread).
fn value_depth(v: &toml::Value) -> usize {
    1 + match v {
        toml::Value::Array(a) => a.iter().map(value_depth).max().unwrap_or(0),
        toml::Value::Table(t) => t.values().map(value_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Checks that no free-form value of a parsed experiment nests deeper than
/// [`MAX_VALUE_DEPTH`] (`[[expect]]` tables, `[grid]` values, start parameters, bias starts): the error names
/// the key.
pub(crate) fn check_value_depth(spec: &ExperimentSpec, origin: &str) -> Result<(), String> {
    let too_deep = |key: String, depth: usize| {
        format!(
            "{origin}: `{key}` is nested {depth} levels deep; at most {MAX_VALUE_DEPTH} are accepted"
        )
    };
    for (i, v) in spec.expect.iter().enumerate() {
        let depth = value_depth(v);
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep(format!("expect[{i}]"), depth));
        }
    }
    for (key, v) in &spec.grid.0 {
        let depth = value_depth(v);
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep(format!("grid.\"{key}\""), depth));
        }
    }
    let mut entries: Vec<(String, &InitEntry, usize)> = spec
        .inits
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("inits[{i}]"), e, 1))
        .chain(spec.bias.iter().map(|b| ("bias".to_string(), b, 1)))
        .collect();
    while let Some((key, entry, level)) = entries.pop() {
        if level > MAX_VALUE_DEPTH {
            return Err(too_deep(key, level));
        }
        if let InitEntry::Table { bias, params, .. } = entry {
            for (name, v) in params {
                let depth = level + value_depth(v);
                if depth > MAX_VALUE_DEPTH {
                    return Err(too_deep(format!("{key}.{name}"), depth));
                }
            }
            if let Some(b) = bias {
                entries.push((format!("{key}.bias"), b, level + 1));
            }
        }
    }
    Ok(())
}

/// The directories data files may come from, canonical (symbolic links resolved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPolicy {
    /// The `--data-root` directories, as given (for messages).
    given: Vec<PathBuf>,
    /// The same and the built-in data directory, canonical.
    roots: Vec<PathBuf>,
}

/// The directory of the data sets that ship with initlab (`data/iris.csv`,
/// `data/digits.csv`, ...), when it exists.
fn builtin_data_dir() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .canonicalize()
        .ok()
}

impl DataPolicy {
    /// The policy of `--untrusted` with these `--data-root` directories (none: only the
    /// built-in data sets and generated data). Each must be an existing directory.
    pub fn new(data_roots: &[PathBuf]) -> Result<Self, String> {
        let mut roots = Vec::new();
        for root in data_roots {
            let canonical = root
                .canonicalize()
                .map_err(|e| format!("--data-root {}: cannot be used: {e}", root.display()))?;
            if !canonical.is_dir() {
                return Err(format!(
                    "--data-root {}: is not a directory; expected the directory the graded files may read data from",
                    root.display()
                ));
            }
            roots.push(canonical);
        }
        roots.extend(builtin_data_dir());
        Ok(DataPolicy {
            given: data_roots.to_vec(),
            roots,
        })
    }

    /// The file that `key` = `given` names, resolved as usual against `base` (the
    /// experiment file's directory, then the current directory) and canonicalized: `Ok`
    /// only if it is a regular file inside an allowed directory.
    pub fn check(&self, key: &str, given: &Path, base: Option<&Path>) -> Result<PathBuf, String> {
        let inside = resolve_path(given, base)
            .canonicalize()
            .ok()
            .filter(|p| self.roots.iter().any(|root| p.starts_with(root)))
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()));
        inside.ok_or_else(|| {
            let roots = if self.given.is_empty() {
                "no --data-root was given, so only generated data and initlab's built-in data sets are allowed".to_string()
            } else {
                let list: Vec<String> = self
                    .given
                    .iter()
                    .map(|r| format!("--data-root {}", r.display()))
                    .collect();
                format!("allowed: {}", list.join(", "))
            };
            format!(
                "`{key}` = {:?}: no such data file inside the data root ({roots}); in --untrusted mode a data file must be a regular file inside it, after following symbolic links",
                given.display().to_string()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At the `toml` crate's limits (80 inline tables, 80 key parts each), on the 2 MiB
    /// stack of a test thread: an error, not a stack overflow.
    #[test]
    fn the_deepest_toml_is_an_error_on_a_small_stack() {
        let key = vec!["a"; 79].join(".");
        let value = format!("{}1{}", format!("{{{key}=").repeat(79), "}".repeat(79));
        let head = "name=\"x\"\n[data]\nsource=\"xor\"\n[network]\nhidden=[2]\nactivations=[\"tanh\"]\nloss=\"bce\"\n[training]\nepochs=1\nlearning_rate=0.1\n";
        let small = std::thread::Builder::new().stack_size(2 << 20);
        let result = small
            .spawn(move || {
                let expect = format!("{head}[[expect]]\nx = {value}\n");
                let e = ExperimentSpec::from_toml(&expect, "e.toml").unwrap_err();
                assert!(
                    e.0.contains("`expect[0]` is nested 6243 levels deep; at most 32"),
                    "{e}"
                );
                // Two levels go to the list and the start's table.
                let value = format!("{}1{}", format!("{{{key}=").repeat(77), "}".repeat(77));
                let param = head.replace(
                    "name=\"x\"",
                    &format!("name=\"x\"\ninits=[{{name=\"huge\", p={value}}}]"),
                );
                let e = ExperimentSpec::from_toml(&param, "e.toml").unwrap_err();
                assert!(e.0.contains("`inits[0].p` is nested"), "{e}");
                let deep_bias = format!(
                    "{}\"zeros\"{}",
                    "{name=\"he-normal\", bias=".repeat(40),
                    "}".repeat(40)
                );
                let bias = head.replace("name=\"x\"", &format!("name=\"x\"\ninits=[{deep_bias}]"));
                let e = ExperimentSpec::from_toml(&bias, "e.toml").unwrap_err();
                assert!(e.0.contains("`inits[0]"), "{e}");
                assert!(e.0.contains(".bias` is nested 33 levels deep"), "{e}");
            })
            .unwrap()
            .join();
        assert!(result.is_ok());
    }

    #[test]
    fn files_outside_the_roots_or_behind_links_are_refused_alike() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("ok.csv"), "x,label\n1,0\n").unwrap();
        std::fs::write(tmp.path().join("secret.toml"), "# hidden\n").unwrap();
        let policy = DataPolicy::new(std::slice::from_ref(&root)).unwrap();
        let ok = policy
            .check("data.path", Path::new("ok.csv"), Some(&root))
            .unwrap();
        assert_eq!(ok, root.join("ok.csv").canonicalize().unwrap());
        let outside = policy
            .check("data.path", Path::new("../secret.toml"), Some(&root))
            .unwrap_err();
        let missing = policy
            .check("data.path", Path::new("../nothing.toml"), Some(&root))
            .unwrap_err();
        assert_eq!(
            outside.replace("secret", "nothing"),
            missing,
            "the message must not tell which exists"
        );
        assert!(
            outside.contains("`data.path` = \"../secret.toml\""),
            "{outside}"
        );
        assert!(!outside.contains("hidden"), "{outside}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(tmp.path().join("secret.toml"), root.join("link.csv"))
                .unwrap();
            assert!(
                policy
                    .check("data.path", Path::new("link.csv"), Some(&root))
                    .is_err()
            );
            // A directory is not a data file.
            assert!(
                policy
                    .check("data.path", Path::new("."), Some(&root))
                    .is_err()
            );
        }
        let none = DataPolicy::new(&[]).unwrap();
        let e = none
            .check("data.images", Path::new("ok.csv"), Some(&root))
            .unwrap_err();
        assert!(e.contains("no --data-root was given"), "{e}");
        let e = DataPolicy::new(&[root.join("ok.csv")]).unwrap_err();
        assert!(e.contains("is not a directory"), "{e}");
    }
}
