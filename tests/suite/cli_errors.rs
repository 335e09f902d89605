//! Bad input at the command line: every case exits non-zero with one clear message on
//! stderr naming what and where, never a panic, and creates or changes no output file.
//!
//! Every case's description is a row of `docs/errors.md` (checked below), so the table
//! there stays the tested one. `INITLAB_ERRORS_TABLE=path` writes the observed table.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// A small valid experiment over `d.csv`.
const BASE: &str = r#"name = "t"
seeds = 1
inits = ["xavier-normal"]

[data]
source = "csv"
path = "d.csv"

[network]
hidden = [3]
activations = ["tanh"]
loss = "cross-entropy"

[training]
epochs = 2
learning_rate = 0.1
"#;

/// A valid CSV for [`BASE`].
const CSV: &str = "x1,x2,label\n0,0,0\n1,1,0\n0,1,1\n1,0,1\n";

/// IDX images: magic 0x0803, `n` images of 2×2, all bytes present.
fn idx_images(n: u32, truncate: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&2u32.to_be_bytes());
    v.extend_from_slice(&2u32.to_be_bytes());
    v.extend(std::iter::repeat_n(7u8, 4 * n as usize));
    v.truncate(v.len() - truncate);
    v
}

/// IDX labels: magic 0x0801, `n` labels alternating 0 and 1.
fn idx_labels(n: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend_from_slice(&n.to_be_bytes());
    v.extend((0..n).map(|i| (i % 2) as u8));
    v
}

/// An IDX experiment over `img` and `lab`.
fn idx_toml() -> String {
    BASE.replace(
        "source = \"csv\"\npath = \"d.csv\"",
        "source = \"idx\"\nimages = \"img\"\nlabels = \"lab\"",
    )
}

/// One bad input.
struct Case {
    /// The row of docs/errors.md.
    input: &'static str,
    /// Files to create in the working directory (a trailing `/` makes a directory).
    files: Vec<(&'static str, Vec<u8>)>,
    /// Arguments after `initlab`.
    args: Vec<String>,
    /// Expected exit code.
    code: i32,
    /// Substrings the message must contain.
    says: Vec<&'static str>,
    /// The message comes from clap (several lines: usage and a hint).
    clap: bool,
}

fn case(input: &'static str, args: &[&str], code: i32, says: &[&'static str]) -> Case {
    Case {
        input,
        files: vec![("d.csv", CSV.into()), ("e.toml", BASE.into())],
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        says: says.to_vec(),
        clap: false,
    }
}

/// `experiment e.toml --out out ...` with `e.toml` = BASE with `from` replaced by `to`.
fn toml_case(input: &'static str, from: &str, to: &str, says: &[&'static str]) -> Case {
    assert!(BASE.contains(from), "{from}");
    let mut c = case(input, &["experiment", "e.toml", "--out", "out"], 2, says);
    c.files[1].1 = BASE.replacen(from, to, 1).into_bytes();
    c
}

/// `experiment e.toml --out out` with `d.csv` replaced.
fn csv_case(input: &'static str, csv: &str, says: &[&'static str]) -> Case {
    let mut c = case(input, &["experiment", "e.toml", "--out", "out"], 2, says);
    c.files[0].1 = csv.as_bytes().to_vec();
    c
}

fn flag_case(input: &'static str, flags: &[&str], code: i32, says: &[&'static str]) -> Case {
    let mut args = vec!["experiment", "e.toml", "--out", "out"];
    args.extend_from_slice(flags);
    case(input, &args, code, says)
}

fn clap(mut c: Case) -> Case {
    c.clap = true;
    c
}

fn with_files(mut c: Case, files: Vec<(&'static str, Vec<u8>)>) -> Case {
    for (name, bytes) in files {
        c.files.retain(|(n, _)| *n != name);
        c.files.push((name, bytes));
    }
    c
}

fn cases() -> Vec<Case> {
    let run = ["experiment", "e.toml", "--out", "out"];
    vec![
        // --- command line ---
        case(
            "unknown experiment name",
            &["experiment", "nosuch", "--out", "out"],
            2,
            &["unknown experiment `nosuch`", "xor, circles"],
        ),
        case(
            "missing experiment file",
            &["experiment", "missing.toml", "--out", "out"],
            2,
            &["missing.toml", "cannot read"],
        ),
        with_files(
            case(
                "a directory where the experiment file is expected",
                &["experiment", "dir.toml", "--out", "out"],
                2,
                &["dir.toml", "is a directory"],
            ),
            vec![("dir.toml/", vec![])],
        ),
        with_files(
            case(
                "experiment file that is not UTF-8",
                &run,
                2,
                &["e.toml", "not valid UTF-8"],
            ),
            vec![("e.toml", vec![b'n', 0xff, 0xfe, b'\n'])],
        ),
        flag_case(
            "`--epochs 0`",
            &["--epochs", "0"],
            2,
            &["training.epochs", "got 0"],
        ),
        flag_case("`--seeds 0`", &["--seeds", "0"], 2, &["seeds", "got 0"]),
        flag_case(
            "`--threads 0`",
            &["--threads", "0"],
            2,
            &["--threads", "got 0"],
        ),
        flag_case(
            "`--log-every 0`",
            &["--log-every", "0"],
            2,
            &["training.log_every"],
        ),
        flag_case(
            "`--learning-rate 0`",
            &["--learning-rate", "0"],
            2,
            &["training.learning_rate", "> 0", "got 0"],
        ),
        flag_case(
            "`--learning-rate=-1`",
            &["--learning-rate=-1"],
            2,
            &["training.learning_rate", "got -1"],
        ),
        flag_case(
            "`--learning-rate nan`",
            &["--learning-rate", "nan"],
            2,
            &["training.learning_rate", "got NaN"],
        ),
        flag_case(
            "`--learning-rate inf`",
            &["--learning-rate", "inf"],
            2,
            &["training.learning_rate", "got inf"],
        ),
        flag_case(
            "unknown start in `--inits`",
            &["--inits", "xavier-normal,bogus"],
            2,
            &["bogus", "he-normal"],
        ),
        flag_case(
            "unknown activation in `--activations`",
            &["--activations", "tanh,bogus"],
            2,
            &["--activations", "bogus"],
        ),
        clap(flag_case(
            "`--epochs ten` (not a number)",
            &["--epochs", "ten"],
            2,
            &["invalid value 'ten'", "--epochs"],
        )),
        clap(flag_case(
            "`--epochs -5` (negative)",
            &["--epochs=-5"],
            2,
            &["invalid value '-5'", "--epochs"],
        )),
        clap(flag_case(
            "`--precision f16`",
            &["--precision", "f16"],
            2,
            &["invalid value 'f16'", "f32", "f64"],
        )),
        clap(flag_case(
            "`--shard 0/3`",
            &["--shard", "0/3"],
            2,
            &["--shard", "1 ≤ K ≤ N"],
        )),
        clap(flag_case(
            "`--shard 4/3`",
            &["--shard", "4/3"],
            2,
            &["--shard", "1 ≤ K ≤ N"],
        )),
        clap(flag_case(
            "`--shard two` (not K/N)",
            &["--shard", "two"],
            2,
            &["--shard", "K/N"],
        )),
        clap(flag_case(
            "unknown option `--bogus`",
            &["--bogus"],
            2,
            &["unexpected argument '--bogus'"],
        )),
        clap(case(
            "unknown subcommand",
            &["experimnet", "xor"],
            2,
            &["unrecognized subcommand 'experimnet'"],
        )),
        // --- experiment TOML ---
        toml_case(
            "TOML syntax error",
            "epochs = 2",
            "epochs = = 2",
            &[
                "e.toml, line 15, column 10",
                "expected nothing",
                "(in `epochs = = 2`)",
            ],
        ),
        toml_case(
            "unknown top-level key",
            "seeds = 1",
            "seeds = 1\nseed_count = 3",
            &[
                "e.toml, line 3, column 1",
                "unknown field `seed_count`",
                "expected one of",
            ],
        ),
        toml_case(
            "unknown key in a section (typo)",
            "learning_rate = 0.1",
            "learnig_rate = 0.1",
            &[
                "e.toml, line 16, column 1",
                "unknown field `learnig_rate`",
                "`learning_rate`",
            ],
        ),
        toml_case(
            "duplicate key",
            "epochs = 2",
            "epochs = 2\nepochs = 3",
            &[
                "e.toml, line 16, column 1",
                "duplicate key",
                "(in `epochs = 3`)",
            ],
        ),
        toml_case(
            "duplicate section",
            "[training]",
            "[network]\n[training]",
            &["e.toml, line 14", "duplicate key"],
        ),
        toml_case(
            "wrong type (string for a number)",
            "epochs = 2",
            "epochs = \"ten\"",
            &[
                "e.toml, line 15, column 10",
                "invalid type: string \"ten\"",
                "expected usize",
            ],
        ),
        toml_case(
            "wrong type (number for a list)",
            "hidden = [3]",
            "hidden = 3",
            &[
                "e.toml, line 10, column 10",
                "invalid type: integer `3`",
                "expected a sequence",
            ],
        ),
        toml_case(
            "negative epochs",
            "epochs = 2",
            "epochs = -2",
            &["e.toml, line 15, column 10", "-2", "usize"],
        ),
        toml_case(
            "missing section",
            "[training]\nepochs = 2\nlearning_rate = 0.1\n",
            "",
            &["error: e.toml: missing field `training`"],
        ),
        toml_case(
            "unknown start name",
            "inits = [\"xavier-normal\"]",
            "inits = [\"xavier-norml\"]",
            &["e.toml", "inits[0]", "xavier-norml", "xavier-normal"],
        ),
        toml_case(
            "start parameter of the wrong type",
            "inits = [\"xavier-normal\"]",
            "inits = [{ name = \"huge\", std = true }]",
            &["e.toml", "inits[0]", "`std`", "must be a number"],
        ),
        toml_case(
            "the same start twice",
            "inits = [\"xavier-normal\"]",
            "inits = [\"xavier-normal\", \"xavier-normal\"]",
            &["e.toml", "inits[1]", "appears twice"],
        ),
        toml_case(
            "unknown activation name",
            "activations = [\"tanh\"]",
            "activations = [\"tanhh\"]",
            &["e.toml, line 11", "tanhh", "relu"],
        ),
        toml_case(
            "unknown loss name",
            "loss = \"cross-entropy\"",
            "loss = \"hinge\"",
            &["e.toml, line 12", "hinge", "bce"],
        ),
        toml_case(
            "unknown generator (data source)",
            "source = \"csv\"",
            "source = \"sprial\"",
            &["e.toml", "data.source", "sprial", "spiral"],
        ),
        toml_case(
            "learning rate 0",
            "learning_rate = 0.1",
            "learning_rate = 0.0",
            &["e.toml", "training.learning_rate", "got 0"],
        ),
        toml_case(
            "learning rate negative",
            "learning_rate = 0.1",
            "learning_rate = -0.5",
            &["e.toml", "training.learning_rate", "got -0.5"],
        ),
        toml_case(
            "learning rate `nan`",
            "learning_rate = 0.1",
            "learning_rate = nan",
            &["e.toml", "training.learning_rate", "got NaN"],
        ),
        toml_case(
            "learning rate `inf`",
            "learning_rate = 0.1",
            "learning_rate = inf",
            &["e.toml", "training.learning_rate", "got inf"],
        ),
        toml_case(
            "epochs 0",
            "epochs = 2",
            "epochs = 0",
            &["e.toml", "training.epochs", "got 0"],
        ),
        toml_case(
            "batch size 0",
            "epochs = 2",
            "epochs = 2\nbatch_size = 0",
            &["e.toml", "training.batch_size", "got 0"],
        ),
        toml_case(
            "hidden width 0",
            "hidden = [3]",
            "hidden = [3, 0]",
            &["e.toml", "network.hidden[1]", "is 0"],
        ),
        toml_case(
            "test fraction 1",
            "path = \"d.csv\"",
            "path = \"d.csv\"\ntest_fraction = 1.0",
            &["e.toml", "data.test_fraction", "[0, 1)", "got 1"],
        ),
        toml_case(
            "test fraction negative",
            "path = \"d.csv\"",
            "path = \"d.csv\"\ntest_fraction = -0.2",
            &["e.toml", "data.test_fraction", "got -0.2"],
        ),
        toml_case(
            "momentum out of range",
            "epochs = 2",
            "epochs = 2\nmomentum = 1.5",
            &["e.toml", "training.momentum", "[0, 1)", "got 1.5"],
        ),
        toml_case(
            "`shard` out of range in a TOML file",
            "seeds = 1",
            "seeds = 1\nshard = \"5/3\"",
            &["e.toml", "`shard`", "1 ≤ K ≤ N"],
        ),
        toml_case(
            "empty `network.activations`",
            "activations = [\"tanh\"]",
            "activations = []",
            &["e.toml", "network.activations", "at least one"],
        ),
        // --- CSV data ---
        csv_case(
            "CSV with a ragged row",
            "x1,x2,label\n0,0,0\n1,1\n",
            &["d.csv, line 3", "found 2 fields, expected 3"],
        ),
        csv_case(
            "CSV with a non-numeric cell",
            "x1,x2,label\n0,0,0\n1,abc,1\n",
            &["d.csv, line 3", "\"x2\"", "\"abc\""],
        ),
        csv_case(
            "CSV with an empty cell",
            "x1,x2,label\n0,0,0\n1,,1\n",
            &["d.csv, line 3", "\"x2\"", "empty cell"],
        ),
        csv_case(
            "CSV without the label column",
            "x1,x2,target\n0,0,0\n1,1,1\n",
            &[
                "d.csv, line 1",
                "no column named \"label\"",
                "\"x1\", \"x2\", \"target\"",
            ],
        ),
        csv_case(
            "CSV class label that is not an integer",
            "x1,x2,label\n0,0,0\n1,1,0.5\n",
            &["d.csv, line 3", "\"label\"", "\"0.5\""],
        ),
        csv_case(
            "CSV class label that is negative",
            "x1,x2,label\n0,0,0\n1,1,-1\n",
            &["d.csv, line 3", "\"label\"", "\"-1\""],
        ),
        csv_case(
            "CSV label column mixing class indices and names",
            "x1,x2,label\n0,0,0\n1,1,cat\n",
            &["d.csv, line 3", "\"label\"", "\"cat\"", "not both"],
        ),
        toml_case(
            "`data.delimiter` longer than one character",
            "path = \"d.csv\"",
            "path = \"d.csv\"\ndelimiter = \";;\"",
            &["`data.delimiter` = \";;\" is not valid"],
        ),
        toml_case(
            "formula start with an unknown variable",
            "inits = [\"xavier-normal\"]",
            "inits = [{ name = \"formula\", std = \"sqrt(2 / fan_inn)\" }]",
            &[
                "unknown variable `fan_inn` at column 10; known: fan_in, fan_out, gain, layer, depth",
            ],
        ),
        toml_case(
            "formula start giving a layer a std ≤ 0",
            "inits = [\"xavier-normal\"]",
            "inits = [{ name = \"formula\", std = \"2 - layer\" }]",
            &[
                "inits[0] (`formula`) with tanh",
                "gives std = 0 for layer 2",
            ],
        ),
        toml_case(
            "malformed `[[expect]]` predicate in an experiment",
            "learning_rate = 0.1",
            "learning_rate = 0.1\n[[expect]]\nquantity = \"train_loss\"\napprox = 0.7",
            &["e.toml: expect[0]", "`approx` needs exactly one tolerance"],
        ),
        csv_case(
            "CSV with NaN",
            "x1,x2,label\n0,0,0\nnan,1,1\n",
            &["d.csv, line 3", "\"x1\"", "\"nan\"", "finite"],
        ),
        csv_case(
            "CSV with infinity",
            "x1,x2,label\n0,0,0\n1,-inf,1\n",
            &["d.csv, line 3", "\"x2\"", "\"-inf\"", "finite"],
        ),
        csv_case(
            "CSV with only a header",
            "x1,x2,label\n",
            &["d.csv has no data rows"],
        ),
        csv_case("empty CSV file", "", &["d.csv is empty"]),
        csv_case(
            "CSV without a header line",
            "0,0,0\n1,1,1\n",
            &["d.csv, line 1", "expected a header line"],
        ),
        csv_case(
            "CSV with only the label column",
            "label\n0\n1\n",
            &["d.csv, line 1", "only column is the label column"],
        ),
        with_files(
            toml_case(
                "label column index out of range",
                "path = \"d.csv\"",
                "path = \"d.csv\"\nlabel = 7",
                &["d.csv, line 1", "label column index 7", "0..3"],
            ),
            vec![],
        ),
        toml_case(
            "real-valued target with a classification loss",
            "path = \"d.csv\"",
            "path = \"d.csv\"\ntask = \"regression\"",
            &[
                "e.toml",
                "cross-entropy",
                "needs integer class labels",
                "mse",
            ],
        ),
        toml_case(
            "missing data file",
            "path = \"d.csv\"",
            "path = \"nope.csv\"",
            &["nope.csv", "cannot read"],
        ),
        with_files(
            toml_case(
                "a directory where the data file is expected",
                "path = \"d.csv\"",
                "path = \"ddir\"",
                &["ddir is a directory", "expected a data file"],
            ),
            vec![("ddir/", vec![])],
        ),
        // --- IDX data ---
        with_files(
            case(
                "IDX images with a wrong magic number",
                &run,
                2,
                &["img", "magic number", "0x00000803"],
            ),
            vec![
                ("e.toml", idx_toml().into_bytes()),
                ("img", {
                    let mut v = idx_images(4, 0);
                    v[3] = 9;
                    v
                }),
                ("lab", idx_labels(4)),
            ],
        ),
        with_files(
            case(
                "IDX labels file given as images",
                &run,
                2,
                &["img", "magic number", "label"],
            ),
            vec![
                ("e.toml", idx_toml().into_bytes()),
                ("img", idx_labels(4)),
                ("lab", idx_labels(4)),
            ],
        ),
        with_files(
            case(
                "IDX images with a truncated body",
                &run,
                2,
                &["img", "bytes, expected", "truncated"],
            ),
            vec![
                ("e.toml", idx_toml().into_bytes()),
                ("img", idx_images(4, 3)),
                ("lab", idx_labels(4)),
            ],
        ),
        with_files(
            case(
                "IDX image and label counts differ",
                &run,
                2,
                &["img holds 4 images", "lab holds 3 labels", "same count"],
            ),
            vec![
                ("e.toml", idx_toml().into_bytes()),
                ("img", idx_images(4, 0)),
                ("lab", idx_labels(3)),
            ],
        ),
        // --- output paths ---
        with_files(
            case(
                "`--out` is an existing file",
                &["experiment", "e.toml", "--out", "f.txt"],
                1,
                &["f.txt", "not a directory"],
            ),
            vec![("f.txt", b"keep".to_vec())],
        ),
        with_files(
            case(
                "`--out` below a file",
                &["experiment", "e.toml", "--out", "f.txt/out"],
                1,
                &[
                    "cannot create output directory f.txt/out",
                    "f.txt is a file",
                ],
            ),
            vec![("f.txt", b"keep".to_vec())],
        ),
        case(
            "`--out` on a read-only file system",
            &["experiment", "e.toml", "--out", "/proc/initlab-out"],
            1,
            &["/proc"],
        ),
        // --- size guards: refused before anything is allocated ---
        case(
            "`inspect` wider than the memory available",
            &[
                "inspect",
                "--init",
                "he-normal",
                "--activation",
                "relu",
                "--depth",
                "3",
                "--width",
                "100000",
            ],
            2,
            &[
                "--width 100000 needs ~320 GB",
                "weights and gradients of 4 layers of 100,000 × 100,000",
                "available",
            ],
        ),
        case(
            "`inspect` batch above `--max-memory`",
            &[
                "inspect",
                "--init",
                "he-normal",
                "--width",
                "64",
                "--batch",
                "200000",
                "--max-memory",
                "100M",
            ],
            2,
            &[
                "--batch 200000 needs ~",
                "200,000-row batch",
                "--max-memory is 100 MB",
            ],
        ),
        with_files(
            case(
                "experiment network above `--max-memory`",
                &[
                    "experiment",
                    "e.toml",
                    "--out",
                    "out",
                    "--no-plots",
                    "--threads",
                    "1",
                    "--max-memory",
                    "200M",
                ],
                2,
                &[
                    "network.hidden = [6000, 6000] needs ~",
                    "parameters",
                    "--threads 1",
                    "--max-memory is 200 MB",
                ],
            ),
            vec![(
                "e.toml",
                BASE.replace("hidden = [3]", "hidden = [6000, 6000]")
                    .into_bytes(),
            )],
        ),
        toml_case(
            "`[grid]` axis over an unknown key",
            "learning_rate = 0.1\n",
            "learning_rate = 0.1\n\n[grid]\n\"network.widht\" = [1, 2]\n",
            &["`[grid]` network.widht = 1", "unknown field `widht`"],
        ),
        toml_case(
            "`[grid]` axis with an empty list",
            "learning_rate = 0.1\n",
            "learning_rate = 0.1\n\n[grid]\n\"network.norm\" = []\n",
            &["`[grid]` `network.norm` is an empty list"],
        ),
        toml_case(
            "`[grid]` `logspace` with a count below 1",
            "learning_rate = 0.1\n",
            "learning_rate = 0.1\n\n[grid]\n\"training.learning_rate\" = { logspace = [-4, 0, 0] }\n",
            &["`logspace` count is 0; it must be at least 1"],
        ),
        toml_case(
            "`[grid]` axis over the data",
            "learning_rate = 0.1\n",
            "learning_rate = 0.1\n\n[grid]\n\"data.delimiter\" = [\";\"]\n",
            &["`data.delimiter` cannot be swept"],
        ),
        toml_case(
            "`[grid]` with more settings than accepted",
            "learning_rate = 0.1\n",
            "learning_rate = 0.1\n\n[grid]\n\"network.width\" = { linspace = [1, 100, 20000] }\n",
            &["makes 20000 settings", "at most 10000"],
        ),
        with_files(
            flag_case(
                "`[grid]` sweep above `--max-runs`",
                &["--max-runs", "1"],
                2,
                &["the `[grid]` sweep makes 2 runs", "more than --max-runs 1"],
            ),
            vec![(
                "e.toml",
                format!("{BASE}\n[grid]\n\"network.norm\" = [\"none\", \"layernorm\"]\n")
                    .into_bytes(),
            )],
        ),
        with_files(
            flag_case(
                "`[grid]` point above `--max-memory`",
                &["--max-memory", "200M"],
                2,
                &[
                    "at `[grid]` network.depth = 2, network.width = 6000",
                    "--max-memory is 200 MB",
                ],
            ),
            vec![(
                "e.toml",
                format!("{BASE}\n[grid]\n\"network.width\" = [3, 6000]\n\"network.depth\" = [2]\n")
                    .into_bytes(),
            )],
        ),
        clap(flag_case(
            "`--grid` without values",
            &["--grid", "network.norm="],
            2,
            &["no values after `=`"],
        )),
        case(
            "experiment report above `--max-memory`",
            &[
                "experiment",
                "e.toml",
                "--out",
                "out",
                "--seeds",
                "100000",
                "--max-memory",
                "100M",
            ],
            2,
            &[
                "--seeds 100000 needs ~",
                "drawing the report of 100,000 runs",
                "--no-plots",
            ],
        ),
        clap(case(
            "`--max-memory` that is not a size",
            &[
                "experiment",
                "e.toml",
                "--out",
                "out",
                "--max-memory",
                "lots",
            ],
            2,
            &["'lots'", "--max-memory", "512M, 2G, 4GiB"],
        )),
        clap(case(
            "`--max-memory` with an unknown unit",
            &["inspect", "--init", "he-normal", "--max-memory", "2Q"],
            2,
            &["unknown unit `q`", "KiB"],
        )),
        // --- other subcommands ---
        with_files(
            case(
                "`plot` of a file instead of a results directory",
                &["plot", "f.txt"],
                2,
                &["f.txt", "not a results directory"],
            ),
            vec![("f.txt", b"keep".to_vec())],
        ),
        with_files(
            case(
                "`plot` of a directory without results",
                &["plot", "res"],
                2,
                &["res/metrics.csv", "No such file or directory"],
            ),
            vec![("res/", vec![])],
        ),
        with_files(
            case(
                "`merge` of a file instead of a shard directory",
                &["merge", "out", "f.txt"],
                2,
                &["f.txt", "not a directory", "shard results directory"],
            ),
            vec![("f.txt", b"keep".to_vec())],
        ),
        with_files(
            case(
                "`merge` of a directory that is not a shard",
                &["merge", "out", "res"],
                2,
                &["res/config.toml", "cannot read"],
            ),
            vec![("res/", vec![])],
        ),
        // --- the layer engine: layers, norms, residual blocks, optimizers ---
        toml_case(
            "unknown optimizer",
            "learning_rate = 0.1",
            "learning_rate = 0.1\noptimizer = \"adamax\"",
            &["unknown optimizer `adamax`", "sgd, adam, adamw, rmsprop"],
        ),
        toml_case(
            "Adam's betas out of range",
            "learning_rate = 0.1",
            "learning_rate = 0.1\n[training.optimizer]\nname = \"adam\"\nbetas = [0.9, 1.5]",
            &["training.optimizer.betas[1]", "[0, 1)", "1.5"],
        ),
        toml_case(
            "Adam's eps not finite",
            "learning_rate = 0.1",
            "learning_rate = 0.1\n[training.optimizer]\nname = \"adamw\"\neps = nan",
            &["training.optimizer.eps", "NaN"],
        ),
        toml_case(
            "an optimizer key for another optimizer",
            "learning_rate = 0.1",
            "learning_rate = 0.1\n[training.optimizer]\nname = \"sgd\"\nbetas = [0.9, 0.99]",
            &["training.optimizer.betas", "adam and adamw", "`sgd`"],
        ),
        toml_case(
            "unknown norm",
            "loss = \"cross-entropy\"",
            "loss = \"cross-entropy\"\nnorm = \"groupnorm\"",
            &["groupnorm", "none", "layernorm", "batchnorm"],
        ),
        toml_case(
            "unknown layer in `network.layers`",
            "hidden = [3]",
            "layers = [{ dense = 3 }, \"dropout\"]",
            &[
                "network.layers[1]",
                "\"dropout\" is not a layer",
                "layernorm",
            ],
        ),
        toml_case(
            "`network.layers` together with `network.hidden`",
            "hidden = [3]",
            "hidden = [3]\nlayers = [{ dense = 3 }, \"activation\"]",
            &["`network.layers` and `network.hidden`", "one of them"],
        ),
        toml_case(
            "residual block that changes the width without a projection",
            "hidden = [3]",
            "layers = [{ dense = 3 }, { residual = [{ dense = 5 }, \"activation\"] }]",
            &["network.layers[1]", "3 features to 5", "projection = true"],
        ),
        {
            let mut c = toml_case(
                "BatchNorm with one row per batch",
                "learning_rate = 0.1",
                "learning_rate = 0.1\nbatch_size = 1",
                &["training.batch_size", "BatchNorm", "2 rows"],
            );
            c.files[1].1 = String::from_utf8(c.files[1].1.clone())
                .unwrap()
                .replacen("hidden = [3]", "hidden = [3]\nnorm = \"batchnorm\"", 1)
                .into_bytes();
            c
        },
        {
            let mut c = toml_case(
                "BatchNorm whose last mini-batch has one row",
                "learning_rate = 0.1",
                "learning_rate = 0.1\nbatch_size = 3",
                &["BatchNorm", "4 training rows", "`training.batch_size` = 3"],
            );
            c.files[1].1 = String::from_utf8(c.files[1].1.clone())
                .unwrap()
                .replacen("hidden = [3]", "hidden = [3]\nnorm = \"batchnorm\"", 1)
                .into_bytes();
            c
        },
        {
            let mut c = toml_case(
                "formula start invalid at a layer of `network.layers`",
                "hidden = [3]",
                "layers = [{ dense = 3 }, \"activation\", { dense = 3 }, \"activation\"]",
                &["inits[0] (`formula`)", "std = inf", "depth = 3"],
            );
            c.files[1].1 = String::from_utf8(c.files[1].1.clone())
                .unwrap()
                .replacen(
                    "inits = [\"xavier-normal\"]",
                    "inits = [{ name = \"formula\", std = \"1 / (depth - 3)\" }]",
                    1,
                )
                .into_bytes();
            c
        },
        toml_case(
            "`fixup` on a network without residual blocks",
            "inits = [\"xavier-normal\"]",
            "inits = [\"xavier-normal\", \"fixup\"]",
            &["inits[1] (`fixup`)", "has none", "network.residual = true"],
        ),
        {
            let mut c = toml_case(
                "`skipinit` on a residual network with norm layers",
                "hidden = [3]",
                "hidden = [3, 3, 3]\nresidual = true\nnorm = \"layernorm\"",
                &["inits[0] (`skipinit`)", "replaces normalization", "rezero"],
            );
            c.files[1].1 = String::from_utf8(c.files[1].1.clone())
                .unwrap()
                .replacen("inits = [\"xavier-normal\"]", "inits = [\"skipinit\"]", 1)
                .into_bytes();
            c
        },
        toml_case(
            "`gradinit` with a batch too small for two halves",
            "inits = [\"xavier-normal\"]",
            "inits = [{ name = \"gradinit\", batch = 1 }]",
            &["gradinit", "`batch` must be ≥ 2", "got 1"],
        ),
        toml_case(
            "`metainit` with a momentum of 1",
            "inits = [\"xavier-normal\"]",
            "inits = [{ name = \"metainit\", momentum = 1 }]",
            &["metainit", "`momentum` must be in [0, 1)", "got 1"],
        ),
        toml_case(
            "`gradinit` with a negative learning rate",
            "inits = [\"xavier-normal\"]",
            "inits = [{ name = \"gradinit\", learning_rate = -0.1 }]",
            &[
                "gradinit",
                "`learning_rate` must be a finite number > 0",
                "-0.1",
            ],
        ),
        flag_case(
            "`--norm` with an unknown name",
            &["--norm", "weightnorm"],
            2,
            &["--norm weightnorm", "none, layernorm, batchnorm"],
        ),
    ]
}

/// Every path under `dir` with its contents (directories as `None`).
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                out.insert(rel, None);
                stack.push(path);
            } else {
                out.insert(rel, Some(fs::read(&path).unwrap()));
            }
        }
    }
    out
}

fn setup(dir: &Path, files: &[(&str, Vec<u8>)]) {
    for (name, bytes) in files {
        if let Some(d) = name.strip_suffix('/') {
            fs::create_dir_all(dir.join(d)).unwrap();
        } else {
            fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

#[test]
fn bad_inputs_fail_cleanly() {
    let cases = cases();
    let mut failures = Vec::new();
    let mut table = String::new();
    let mut seen = std::collections::HashSet::new();
    for c in &cases {
        assert!(seen.insert(c.input), "duplicate case {}", c.input);
        let dir = tempfile::tempdir().unwrap();
        setup(dir.path(), &c.files);
        let before = snapshot(dir.path());
        let output = Command::cargo_bin("initlab")
            .unwrap()
            .current_dir(dir.path())
            .args(&c.args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let code = output.status.code();
        let mut problems = Vec::new();
        if code != Some(c.code) {
            problems.push(format!("exit code {code:?}, expected {}", c.code));
        }
        if stderr.contains("panicked at") {
            problems.push("panicked".into());
        }
        for s in &c.says {
            if !stderr.contains(s) {
                problems.push(format!("message lacks {s:?}"));
            }
        }
        let message = stderr.trim_end();
        if !message.starts_with("error: ") || stderr.matches("error:").count() != 1 {
            problems.push("expected exactly one `error: ` message".into());
        }
        if !c.clap && message.lines().count() != 1 {
            problems.push("expected a one-line message".into());
        }
        if !output.stdout.is_empty() {
            problems.push("wrote to stdout".into());
        }
        if snapshot(dir.path()) != before {
            problems.push("created or changed files".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  args: {:?}\n  stderr: {stderr}",
                c.input,
                problems.join("; "),
                c.args
            ));
        }
        let first = message.lines().next().unwrap_or("");
        table.push_str(&format!(
            "| {} | `` {} `` | {} |\n",
            c.input,
            first
                .replace('|', "\\|")
                .replace(dir.path().to_str().unwrap(), "…"),
            c.code
        ));
    }
    if let Some(path) = std::env::var_os("INITLAB_ERRORS_TABLE") {
        fs::write(path, &table).unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Every case is a row of the documented table.
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md")).unwrap();
    for c in &cases {
        assert!(
            doc.contains(&format!("| {} |", c.input)),
            "docs/errors.md lacks a row for {:?}",
            c.input
        );
    }
    assert!(cases.len() >= 30);
}

/// A read-only output directory's parent: nothing can be created there (skipped as root,
/// who may write anyway; the /proc case above covers that).
#[cfg(unix)]
#[test]
fn read_only_output_parent() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &[("d.csv", CSV.into()), ("e.toml", BASE.into())],
    );
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(ro.join("probe"), b"").is_ok() {
        fs::remove_file(ro.join("probe")).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
        return; // running as root
    }
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir.path())
        .args(["experiment", "e.toml", "--out", "ro/out"])
        .output()
        .unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ro"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(fs::read_dir(&ro).unwrap().count(), 0);
}

/// An experiment file without read permission (skipped as root, who may read anyway).
#[cfg(unix)]
#[test]
fn unreadable_experiment_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &[("d.csv", CSV.into()), ("e.toml", BASE.into())],
    );
    let path = dir.path().join("e.toml");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&path).is_ok() {
        return; // running as root
    }
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir.path())
        .args(["experiment", "e.toml", "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("e.toml: cannot read experiment file"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

/// A UTF-8 byte-order mark and CRLF line ends, in both the TOML and the CSV, work.
#[test]
fn bom_and_crlf_work() {
    let dir = tempfile::tempdir().unwrap();
    let crlf = |s: &str| format!("\u{feff}{}", s.replace('\n', "\r\n")).into_bytes();
    setup(dir.path(), &[("d.csv", crlf(CSV)), ("e.toml", crlf(BASE))]);
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "experiment",
            "e.toml",
            "--out",
            "out",
            "--no-plots",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metrics = fs::read_to_string(dir.path().join("out/metrics.csv")).unwrap();
    // 4 rows, epochs 0..=2.
    assert_eq!(metrics.lines().count(), 1 + 3);
}

/// `plot` of a directory without metrics.csv says what the operating system said once
/// (it used to print it twice: in the message and again as the message's cause).
#[test]
fn plot_without_results_says_the_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("res")).unwrap();
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir.path())
        .args(["plot", "res"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("res/metrics.csv"), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}
