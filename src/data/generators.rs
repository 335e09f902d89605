//! Synthetic 2-D classification problems, small enough to train in milliseconds and to draw
//! decision boundaries for.
//!
//! Every generator except [`xor`] takes an explicit RNG and is fully determined by it: the
//! same seeded RNG (e.g. `rand_chacha::ChaCha8Rng::seed_from_u64(7)`) gives the same data
//! on every machine. Gaussian noise is drawn from [`rand_distr::StandardNormal`] and scaled.
//!
//! Samples are returned *grouped by class* (all of class 0, then class 1, ...), not shuffled;
//! [`Dataset::split`](super::Dataset::split) and the training loop shuffle. Features are
//! named `x1` and `x2`; targets are [`Target::Classes`].

use std::f64::consts::PI;

use ndarray::Array2;
use rand::Rng;
use rand_distr::StandardNormal;

use super::{Dataset, Target};

/// Builds a 2-D classification data set from points and labels.
fn dataset_2d(points: Vec<[f64; 2]>, labels: Vec<usize>, n_classes: usize) -> Dataset {
    debug_assert_eq!(points.len(), labels.len());
    let n = points.len();
    let flat: Vec<f64> = points.into_iter().flatten().collect();
    Dataset {
        features: Array2::from_shape_vec((n, 2), flat).expect("two coordinates per point"),
        target: Target::Classes { labels, n_classes },
        feature_names: vec!["x1".to_string(), "x2".to_string()],
    }
}

/// `n` evenly spaced values from `start` to `end`, both included (`[start]` when `n == 1`).
fn linspace(start: f64, end: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| {
        if n == 1 {
            start
        } else {
            start + (end - start) * i as f64 / (n - 1) as f64
        }
    })
}

/// A standard-normal draw scaled by `scale`.
fn gauss<R: Rng + ?Sized>(rng: &mut R, scale: f64) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    scale * z
}

/// Adds independent `N(0, noise²)` noise to each coordinate, point by point (x1 then x2).
fn jitter<R: Rng + ?Sized>(points: &mut [[f64; 2]], noise: f64, rng: &mut R) {
    for p in points {
        p[0] += gauss(rng, noise);
        p[1] += gauss(rng, noise);
    }
}

fn check_noise(name: &str, noise: f64) {
    assert!(
        noise.is_finite() && noise >= 0.0,
        "{name}: noise must be a finite number >= 0, got {noise}"
    );
}

/// The XOR problem: the four corners of the unit square, labelled `x1 xor x2`.
///
/// Rows `(0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0`, two classes. The smallest problem no linear
/// model can solve, and the one where a zero or symmetric initialization visibly fails.
pub fn xor() -> Dataset {
    dataset_2d(
        vec![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        vec![0, 1, 1, 0],
        2,
    )
}

/// Two concentric circles, like scikit-learn's `make_circles` (without its shuffle).
///
/// The first `n / 2` points lie evenly spaced on the outer circle of radius 1 (label 0), the
/// other `n - n / 2` on the inner circle of radius `factor` (label 1); then Gaussian noise
/// with standard deviation `noise` is added to every coordinate.
///
/// # Panics
/// If `factor` is not in `[0, 1)` or `noise` is negative or not finite.
pub fn circles<R: Rng + ?Sized>(n: usize, noise: f64, factor: f64, rng: &mut R) -> Dataset {
    assert!(
        (0.0..1.0).contains(&factor),
        "circles: factor (inner radius) must be in [0, 1), got {factor}"
    );
    check_noise("circles", noise);
    let n_outer = n / 2;
    let n_inner = n - n_outer;
    let ring = |count: usize, radius: f64| {
        (0..count).map(move |i| {
            let t = 2.0 * PI * i as f64 / count as f64;
            [radius * t.cos(), radius * t.sin()]
        })
    };
    let mut points: Vec<[f64; 2]> = ring(n_outer, 1.0).chain(ring(n_inner, factor)).collect();
    jitter(&mut points, noise, rng);
    let labels = [vec![0; n_outer], vec![1; n_inner]].concat();
    dataset_2d(points, labels, 2)
}

/// Two interleaving half circles, like scikit-learn's `make_moons` (without its shuffle).
///
/// The first `n / 2` points lie on the upper half circle `(cos t, sin t)`, `t` evenly spaced in
/// `[0, π]` (label 0); the other `n - n / 2` on the lower one `(1 - cos t, 0.5 - sin t)`
/// (label 1); then Gaussian noise with standard deviation `noise` is added to every
/// coordinate.
///
/// # Panics
/// If `noise` is negative or not finite.
pub fn moons<R: Rng + ?Sized>(n: usize, noise: f64, rng: &mut R) -> Dataset {
    check_noise("moons", noise);
    let n_upper = n / 2;
    let n_lower = n - n_upper;
    let upper = linspace(0.0, PI, n_upper).map(|t| [t.cos(), t.sin()]);
    let lower = linspace(0.0, PI, n_lower).map(|t| [1.0 - t.cos(), 0.5 - t.sin()]);
    let mut points: Vec<[f64; 2]> = upper.chain(lower).collect();
    jitter(&mut points, noise, rng);
    let labels = [vec![0; n_upper], vec![1; n_lower]].concat();
    dataset_2d(points, labels, 2)
}

/// Interleaved spiral arms, one per class (the CS231n "spiral data" recipe).
///
/// For class `j` and `i` in `0..points_per_class`: radius `r = i / (N - 1)` (evenly spaced in
/// `[0, 1]`), angle `t = 4j + 4 i / (N - 1) + 0.2 z` with `z` standard normal, and the point is
/// `(r sin t, r cos t)`. Noise is drawn class by class, point by point.
pub fn spiral<R: Rng + ?Sized>(points_per_class: usize, classes: usize, rng: &mut R) -> Dataset {
    let mut points = Vec::with_capacity(points_per_class * classes);
    let mut labels = Vec::with_capacity(points_per_class * classes);
    for j in 0..classes {
        let start = 4.0 * j as f64;
        let radii = linspace(0.0, 1.0, points_per_class);
        let angles = linspace(start, start + 4.0, points_per_class);
        for (r, t0) in radii.zip(angles) {
            let t = t0 + gauss(rng, 0.2);
            points.push([r * t.sin(), r * t.cos()]);
            labels.push(j);
        }
    }
    dataset_2d(points, labels, classes)
}

/// Isotropic Gaussian blobs, like scikit-learn's `make_blobs` (without its shuffle).
///
/// The `centers` centres are drawn uniformly from the box `[-10, 10]²` (scikit-learn's
/// default `center_box`), x1 then x2, centre by centre. Then each centre `c` gets `n / centers`
/// points (the first `n % centers` centres one more), drawn as the centre plus Gaussian noise
/// of standard deviation `std` on each coordinate, with label `c`.
///
/// # Panics
/// If `centers == 0`, or `std` is negative or not finite.
pub fn blobs<R: Rng + ?Sized>(n: usize, centers: usize, std: f64, rng: &mut R) -> Dataset {
    assert!(centers >= 1, "blobs: need at least one centre, got 0");
    check_noise("blobs", std);
    let centres: Vec<[f64; 2]> = (0..centers)
        .map(|_| {
            let x1 = rng.random_range(-10.0..=10.0);
            let x2 = rng.random_range(-10.0..=10.0);
            [x1, x2]
        })
        .collect();
    let mut points = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for (c, centre) in centres.iter().enumerate() {
        let count = n / centers + usize::from(c < n % centers);
        for _ in 0..count {
            points.push([centre[0] + gauss(rng, std), centre[1] + gauss(rng, std)]);
            labels.push(c);
        }
    }
    dataset_2d(points, labels, centers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_endpoints() {
        let v: Vec<f64> = linspace(0.0, 1.0, 5).collect();
        assert_eq!(v, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace(3.0, 4.0, 1).collect::<Vec<_>>(), vec![3.0]);
        assert_eq!(linspace(3.0, 4.0, 0).count(), 0);
    }

    #[test]
    fn xor_rows() {
        let ds = xor();
        assert_eq!(ds.features.shape(), &[4, 2]);
        assert_eq!(
            ds.target,
            Target::Classes {
                labels: vec![0, 1, 1, 0],
                n_classes: 2
            }
        );
    }
}
