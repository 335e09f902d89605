//! `quantiles.csv`: the percentile bands a run writes with `training.quantiles = true` equal
//! those of an independent f64 forward pass through the run's final weights, computed by
//! sorting (numpy's default percentile), on both engines; nothing is written without it.

use std::sync::atomic::AtomicBool;

use initlab::experiment::runner::{self, RunOptions, derive_seed};
use initlab::experiment::{Experiment, prepare};
use initlab::nn::histogram::Quantity;
use initlab::nn::quantiles::LEVELS;
use initlab::nn::{Activation, ParamSet};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// XOR's 4 points (the probe is all of them), 2-5-1, tanh on the fused engine and GELU on
/// the layer engine, f64.
const XOR: &str = r#"
name = "xor-bands"
seeds = 2
inits = ["xavier-normal", "he-normal"]

[data]
source = "xor"

[network]
hidden = [5]
activations = ["tanh", "gelu"]
loss = "bce"

[training]
epochs = 40
learning_rate = 0.5
log_every = 10
precision = "f64"
quantiles = true
"#;

/// numpy's "linear" percentile, by sorting.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * p;
    let k = h.floor() as usize;
    if k + 1 >= v.len() {
        return v[k];
    }
    v[k] + (h - k as f64) * (v[k + 1] - v[k])
}

#[test]
fn bands_agree_with_a_forward_pass_from_the_final_weights() {
    let exp = Experiment::from_text(XOR, "xor-bands", None).unwrap();
    let (dataset, names) = exp.load_data().unwrap();
    let shared = runner::RunContext {
        spec: &exp.spec,
        inits: &exp.inits,
        points: &exp.sweep.points,
        dataset: &dataset,
        outputs: 1,
        class_names: &names.unwrap_or_default(),
    };
    let runs = runner::grid(&exp, None);
    let options = RunOptions {
        threads: 1,
        save_weights: true,
    };
    let results =
        runner::run_grid::<f64>(shared, &runs, &options, &AtomicBool::new(false), &|_, _| {});
    assert_eq!(results.len(), 8);
    for result in &results {
        // The run's training rows, as the runner prepared them (the probe takes all four).
        let mut split_rng = ChaCha8Rng::seed_from_u64(derive_seed(result.spec.seed, 1));
        let x = prepare::prepare::<f64>(&dataset, &exp.spec.data, &mut split_rng)
            .train
            .x;
        assert_eq!(x.nrows(), 4);
        let activation: Activation = exp.spec.network.activations[result.spec.activation];
        let w = &result.snapshot.as_ref().unwrap().final_;
        let (w1, b1, w2, b2) = (w.tensor(0), w.tensor(1), w.tensor(2), w.tensor(3));
        // Per layer: (pre-activation, activation), each rows × units, row-major.
        let mut z1 = Vec::new();
        let mut a1 = Vec::new();
        let mut z2 = Vec::new();
        for r in 0..4 {
            let row = x.row(r);
            let mut hidden = Vec::new();
            for j in 0..5 {
                let z = w1[2 * j] * row[0] + w1[2 * j + 1] * row[1] + b1[j];
                z1.push(z);
                let a = initlab::theory::phi::phi(activation, z);
                a1.push(a);
                hidden.push(a);
            }
            z2.push((0..5).map(|j| w2[j] * hidden[j]).sum::<f64>() + b2[0]);
        }
        let unit = |values: &[f64], units: usize| -> Vec<f64> {
            values.iter().step_by(units).copied().collect()
        };
        let expected: [(usize, Quantity, Vec<f64>, Vec<f64>); 4] = [
            (1, Quantity::PreActivation, z1.clone(), unit(&z1, 5)),
            (1, Quantity::Activation, a1.clone(), unit(&a1, 5)),
            // The output layer's pre-activation and "activation" are both its logits.
            (2, Quantity::PreActivation, z2.clone(), z2.clone()),
            (2, Quantity::Activation, z2.clone(), z2.clone()),
        ];
        let last: Vec<_> = result.quantiles.iter().filter(|q| q.epoch == 40).collect();
        assert_eq!(last.len(), 8, "two layers × two quantities × (all, unit 1)");
        for (layer, quantity, all, first) in &expected {
            for (unit, values) in [(None, all), (Some(1), first)] {
                let row = last
                    .iter()
                    .find(|q| q.layer == *layer && q.quantity == *quantity && q.unit == unit)
                    .unwrap_or_else(|| panic!("no row for layer {layer} {quantity:?} {unit:?}"));
                for (got, &p) in row.values().iter().zip(&LEVELS) {
                    let want = percentile(values, p);
                    let got = got.expect("finite values");
                    assert!(
                        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                        "{activation} layer {layer} {quantity:?} unit {unit:?} p{p}: {got} vs {want}"
                    );
                }
            }
        }
        // Every logged epoch has its rows: 0, 10, 20, 30, 40.
        assert_eq!(result.quantiles.len(), 5 * 8);
    }
}

/// Without `training.quantiles` a run writes no bands (and `config.toml` says nothing).
#[test]
fn no_bands_unless_asked() {
    let text = XOR.replace("quantiles = true\n", "");
    let exp = Experiment::from_text(&text, "xor-bands", None).unwrap();
    assert!(!exp.spec.training.quantiles);
    let (dataset, _) = exp.load_data().unwrap();
    let shared = runner::RunContext {
        spec: &exp.spec,
        inits: &exp.inits,
        points: &exp.sweep.points,
        dataset: &dataset,
        outputs: 1,
        class_names: &[],
    };
    let runs = runner::grid(&exp, None);
    let options = RunOptions {
        threads: 1,
        save_weights: false,
    };
    let results = runner::run_grid::<f64>(
        shared,
        &runs[..2],
        &options,
        &AtomicBool::new(false),
        &|_, _| {},
    );
    assert!(results.iter().all(|r| r.quantiles.is_empty()));
    assert!(!toml::to_string(&exp.spec).unwrap().contains("quantiles"));
}
