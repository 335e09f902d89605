//! Lazy versus feature learning: how far each layer's weights and outputs have moved from
//! where they started (`layers.csv`'s `weight_change` and `feature_change`).
//!
//! ```text
//! weight_change  = ‖W_t − W_0‖_F / ‖W_0‖_F     (the layer's weights, all of a stage's)
//! feature_change = ‖h_t − h_0‖_F / ‖h_0‖_F     (its outputs on the probe rows)
//! ```
//!
//! In the kernel ("lazy") regime of a wide network under the standard or NTK
//! parametrization, training moves every weight by O(1/√width) of its size, so both fall
//! like width^(−1/2) and the network behaves like its linearization at the start (Jacot et
//! al. 2018; Chizat, Oyallon & Bach 2019). Under μP the hidden layers' features keep moving
//! by O(1) at every width (Yang & Hu 2021): feature learning. Measured at every logged epoch
//! against a copy of the start taken at the first one (epoch 0, after any data-dependent
//! rescaling such as LSUV).

use super::float::Float;

/// The start each layer (a `layers.csv` row) is measured against: its weights and outputs
/// on the probe rows at the first measurement, copied once per run (outside the training
/// step).
#[derive(Clone, Debug, Default)]
pub struct Drift<T> {
    weights: Vec<Vec<T>>,
    features: Vec<Vec<T>>,
}

/// ‖now − start‖ / ‖start‖ over paired values, in f64; `None` when ‖start‖ is 0 or the result
/// is not finite (a diverged run).
pub fn relative_change<'a, T: Float>(now: impl Iterator<Item = &'a T>, start: &[T]) -> Option<f64> {
    let (mut moved, mut size) = (0.0, 0.0);
    for (a, b) in now.zip(start) {
        let (a, b) = (a.f64(), b.f64());
        moved += (a - b) * (a - b);
        size += b * b;
    }
    (size > 0.0)
        .then(|| (moved / size).sqrt())
        .filter(|r| r.is_finite())
}

impl<T: Float> Drift<T> {
    /// No start recorded yet.
    pub fn new() -> Self {
        Drift {
            weights: Vec::new(),
            features: Vec::new(),
        }
    }

    /// `(weight_change, feature_change)` of row `row` (0-based, measured in order) whose
    /// weights and outputs are `weights` and `features` now. The first time a row is seen
    /// its values become its start (and the changes are 0, or `None` for an all-zero start).
    pub fn measure<'a>(
        &mut self,
        row: usize,
        weights: impl Iterator<Item = &'a T>,
        features: impl Iterator<Item = &'a T>,
    ) -> (Option<f64>, Option<f64>) {
        if row == self.weights.len() {
            self.weights.push(weights.copied().collect());
            self.features.push(features.copied().collect());
            let zero = |v: &[T]| v.iter().any(|x| x.f64() != 0.0).then_some(0.0);
            return (zero(&self.weights[row]), zero(&self.features[row]));
        }
        (
            relative_change(weights, &self.weights[row]),
            relative_change(features, &self.features[row]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_relative_frobenius_distances_from_the_first_call() {
        let mut d = Drift::<f64>::new();
        let (w0, h0) = ([3.0, 4.0], [1.0, 0.0, 0.0]);
        assert_eq!(d.measure(0, w0.iter(), h0.iter()), (Some(0.0), Some(0.0)));
        assert_eq!(d.measure(1, [0.0].iter(), [0.0].iter()), (None, None));
        // ‖(3,4) − (0,4)‖ / ‖(3,4)‖ = 3/5; ‖(1,0,0) − (1,2,2)‖ / 1 = √8.
        let (w, h) = d.measure(0, [0.0, 4.0].iter(), [1.0, 2.0, 2.0].iter());
        assert!((w.unwrap() - 0.6).abs() < 1e-15 && (h.unwrap() - 8f64.sqrt()).abs() < 1e-15);
        assert_eq!(d.measure(1, [1.0].iter(), [1.0].iter()), (None, None));
        assert_eq!(
            relative_change([f64::NAN].iter(), &[1.0]),
            None,
            "a diverged run has no value"
        );
    }
}
