//! The `lr-transfer` built-in at reduced size, and the `[quick]` presets it uses.

use std::collections::BTreeMap;
use std::process::Command;

/// Runs `initlab experiment` with `args`; (exit code, stdout, stderr).
fn initlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_initlab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Under SP a wider network trains differently at every learning rate: its loss curve over
/// learning rates moves (lower at small rates, diverging sooner at large ones); under μP
/// (base width 64) the curves of wide networks line up. Widths 64, 256 and 1024, learning
/// rates 2^-6 … 2^0 by 4, one seed, the built-in's 5 epochs. Measured (quick preset, 2
/// seeds): at 2^-6 the final train loss is 0.316 at width 256 and 0.112 at 1024 under SP,
/// 0.561 and 0.514 under μP (mean |Δ ln loss| over 2^-6, 2^-4, 2^-2: 1.04 against 0.10);
/// SP at 1024 diverges at 2^0, the base width's best rate. At the base width μP *is* SP,
/// bit for bit.
#[test]
fn the_loss_curves_over_learning_rate_line_up_under_mup_and_not_under_sp() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = initlab(&[
        "experiment",
        "lr-transfer",
        "--quick",
        "--seeds",
        "1",
        "--no-plots",
        "--grid",
        "network.width=64,256,1024",
        "--grid",
        "training.learning_rate=0.015625,0.0625,0.25,1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("best learning rate of each start and setting"),
        "{stdout}"
    );
    let mut reader = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let mut loss: BTreeMap<(String, u32, String), Option<f64>> = BTreeMap::new();
    for r in reader.records() {
        let r = r.unwrap();
        let get = |c: &str| r[header.iter().position(|h| h == c).unwrap()].to_string();
        loss.insert(
            (
                get("parametrization"),
                get("width").parse().unwrap(),
                get("learning_rate"),
            ),
            get("final_train_loss_mean").parse().ok(),
        );
    }
    let rates = ["0.015625", "0.0625", "0.25", "1"];
    let at = |p: &str, w: u32, lr: &str| loss[&(p.to_string(), w, lr.to_string())];
    // The mean |Δ ln loss| between widths 256 and 1024 below the base width's best rate
    // (2^0, at the edge of stability, where no parametrization promises a smooth curve:
    // μP at 1024 ends at 0.339 there against 0.010 at 256).
    let gap = |p: &str| {
        let d: Vec<f64> = rates[..3]
            .iter()
            .filter_map(|lr| Some((at(p, 256, lr)?.ln() - at(p, 1024, lr)?.ln()).abs()))
            .collect();
        d.iter().sum::<f64>() / d.len() as f64
    };
    let (sp, mup) = (gap("sp"), gap("mup"));
    assert!(sp > 3.0 * mup, "curve gap 256 vs 1024: SP {sp}, μP {mup}");
    let base_best = at("sp", 64, "1").unwrap();
    assert!(
        at("sp", 1024, "1").is_none_or(|l| l > 10.0 * base_best),
        "SP at width 1024, lr 1: {:?} (width 64: {base_best})",
        at("sp", 1024, "1")
    );
    for lr in rates {
        assert_eq!(
            at("sp", 64, lr),
            at("mup", 64, lr),
            "width 64 = base width, lr {lr}"
        );
    }
    // transfer.svg: one panel per parametrization, one line per width.
    let results = initlab::report::Results::load(&out).unwrap();
    let svg = initlab::report::transfer::transfer(&results)
        .unwrap()
        .expect("a learning-rate and a width axis")
        .svg;
    for text in [
        "parametrization=sp",
        "parametrization=mup",
        ">\n1024\n<",
        "log2(learning rate)",
    ] {
        assert!(svg.contains(text), "{text}");
    }
}

#[test]
fn quick_presets_are_checked_and_needed() {
    let dir = tempfile::tempdir().unwrap();
    // An experiment without a preset.
    let (code, _, stderr) = initlab(
        &["experiment", "xor", "--quick", "--out"]
            .into_iter()
            .chain([dir.path().join("a").to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("has no `[quick]` preset"), "{stderr}");
    // A preset naming a key the file could not: refused when the file is read.
    let file = dir.path().join("e.toml");
    std::fs::write(
        &file,
        "name = \"e\"\n[data]\nsource = \"xor\"\n[network]\nhidden = [4]\nactivations = [\"tanh\"]\nloss = \"mse\"\n[training]\n\
         epochs = 1\nlearning_rate = 0.1\n[quick.training]\nepoch = 1\n",
    )
    .unwrap();
    let (code, _, stderr) = initlab(
        &["experiment", file.to_str().unwrap(), "--out"]
            .into_iter()
            .chain([dir.path().join("b").to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`[quick]`") && stderr.contains("epoch"),
        "{stderr}"
    );
    assert!(!dir.path().join("b").exists());
}
