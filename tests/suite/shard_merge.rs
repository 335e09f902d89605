//! `experiment --shard K/N` and `merge`: three shards merged give byte-identical CSV files
//! to the unsharded run, `plot` works on the merge, and bad shard sets are refused.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn initlab(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_initlab"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) {
    let out = initlab(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Distinct (init, activation, seed) runs in a metrics.csv.
fn runs(path: &Path) -> usize {
    let text = fs::read_to_string(path).unwrap();
    let mut keys: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| l.splitn(5, ',').take(4).collect::<Vec<_>>().join(","))
        .collect();
    keys.sort();
    keys.dedup();
    keys.len()
}

fn check_merge_matches(name: &str, extra: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = [
        "experiment",
        name,
        "--epochs",
        "30",
        "--seeds",
        "3",
        "--quiet",
    ];
    let mut full: Vec<&str> = base.to_vec();
    full.extend_from_slice(extra);
    full.extend_from_slice(&["--no-plots", "--out", "full"]);
    ok(dir, &full);
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        // Default output directory: results/<name>-shard-K-of-3.
        args.extend_from_slice(&["--no-plots", "--shard", &shard]);
        ok(dir, &args);
    }
    let shard = |k: usize| format!("results/{name}-shard-{k}-of-3");
    let total = runs(&dir.join("full/metrics.csv"));
    let sizes: Vec<usize> = (1..=3)
        .map(|k| runs(&dir.join(shard(k)).join("metrics.csv")))
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), total);
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "{sizes:?}"
    );
    let config = fs::read_to_string(dir.join(shard(2)).join("config.toml")).unwrap();
    assert!(config.contains("shard = \"2/3\""), "{config}");

    // Shards given in any order.
    ok(dir, &["merge", "merged", &shard(3), &shard(1), &shard(2)]);
    for f in [
        "metrics.csv",
        "layers.csv",
        "summary.csv",
        "boundary.csv",
        "points.csv",
        "histograms.csv",
        "classes.csv",
        "quantiles.csv",
        "config.toml",
    ] {
        let a = dir.join("full").join(f);
        let b = dir.join("merged").join(f);
        assert_eq!(a.exists(), b.exists(), "{name}: {f}");
        if a.exists() {
            assert!(
                fs::read(&a).unwrap() == fs::read(&b).unwrap(),
                "{name}: merged {f} differs from the unsharded run's"
            );
        }
    }
    assert!(dir.join("merged/report.html").exists());
    ok(dir, &["plot", "merged"]);
}

#[test]
fn three_shards_merge_into_the_unsharded_results() {
    check_merge_matches("xor", &[]);
    check_merge_matches("iris", &["--log-every", "7", "--quantiles"]);
}

#[test]
fn bad_shard_sets_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let run = |shard: &str, out: &str, epochs: &str| {
        ok(
            dir,
            &[
                "experiment",
                "xor",
                "--epochs",
                epochs,
                "--seeds",
                "1",
                "--quiet",
                "--no-plots",
                "--shard",
                shard,
                "--out",
                out,
            ],
        );
    };
    run("1/3", "a", "5");
    run("2/3", "b", "5");
    run("3/3", "c", "5");
    run("3/3", "c6", "6");
    run("1/2", "h", "5");
    ok(
        dir,
        &[
            "experiment",
            "xor",
            "--epochs",
            "5",
            "--seeds",
            "1",
            "--quiet",
            "--no-plots",
            "--out",
            "full",
        ],
    );
    let cases: [(&[&str], &str); 5] = [
        (&["a", "b"], "shard(s) 3/3 missing"),
        (&["a", "b", "c", "c"], "shard 3/3 given twice"),
        (&["a", "b", "c6"], "differ at `training.epochs`"),
        (&["a", "b", "h"], "is one of 3 shards"),
        (&["a", "b", "full"], "no `shard` setting"),
    ];
    for (dirs, says) in cases {
        let mut args = vec!["merge", "out"];
        args.extend_from_slice(dirs);
        let out = initlab(dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{dirs:?}: {stderr}");
        assert!(stderr.contains(says), "{dirs:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!dir.join("out").exists());
    }
    // A shard's config.toml runs that shard again.
    ok(
        dir,
        &[
            "experiment",
            "a/config.toml",
            "--quiet",
            "--no-plots",
            "--out",
            "again",
        ],
    );
    assert_eq!(
        fs::read(dir.join("a/metrics.csv")).unwrap(),
        fs::read(dir.join("again/metrics.csv")).unwrap()
    );
}
