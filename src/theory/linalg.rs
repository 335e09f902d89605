//! The two small dense decompositions the theory needs, written here so that no linear
//! algebra library has to be compiled for them:
//!
//! - [`singular_values`]: one-sided Jacobi (Hestenes): plane rotations of pairs of columns
//!   until every pair is orthogonal to working precision; the singular values are then the
//!   column norms. Slower than bidiagonalization for large matrices, but simple and
//!   accurate: each singular value to a few ulps of itself for well-scaled columns (so the
//!   tiny ones of a nearly singular Jacobian are resolved far below ε · s_max).
//! - [`symmetric_eigen`]: cyclic two-sided Jacobi on a symmetric matrix, with the
//!   eigenvectors accumulated (for Golub–Welsch's Gauss–Hermite weights).
//!
//! Both sweep until a sweep rotates nothing (at most [`MAX_SWEEPS`]); the Jacobi methods
//! converge quadratically, in well under 20 sweeps for the sizes used here. The results do
//! not depend on the thread count (everything is sequential).

use ndarray::Array2;

/// Sweeps at most (a non-finite entry would otherwise never settle).
pub const MAX_SWEEPS: usize = 60;

/// x · y with four running sums (in a fixed order, so the result is reproducible).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for ((s, x), y) in acc.iter_mut().zip(a).zip(b) {
            *s += x * y;
        }
    }
    let tail: f64 = xr.iter().zip(yr).map(|(a, b)| a * b).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// |x| > bound (false when either is NaN).
fn exceeds(x: f64, bound: f64) -> bool {
    x.abs().partial_cmp(&bound) == Some(std::cmp::Ordering::Greater)
}

/// The rotation (c, s) that zeroes the off-diagonal entry γ of the symmetric 2 × 2 matrix
/// [[α, γ], [γ, β]] as Rᵀ M R with R = [[c, s], [−s, c]], and t = s/c. The smaller of the
/// two angles, so |t| ≤ 1; the new diagonal is (α − tγ, β + tγ).
fn rotation(alpha: f64, beta: f64, gamma: f64) -> (f64, f64, f64) {
    let zeta = (beta - alpha) / (2.0 * gamma);
    let t = zeta.signum() / (zeta.abs() + zeta.hypot(1.0));
    let c = 1.0 / t.hypot(1.0);
    (c, c * t, t)
}

/// The singular values of `m` (any shape), largest first. `min(rows, cols)` of them.
pub fn singular_values(m: &Array2<f64>) -> Vec<f64> {
    let (rows, cols) = m.dim();
    // Rotate the columns of m, or of mᵀ when m is wide: k columns of length len, k ≤ len,
    // stored one after another.
    let (k, len) = (rows.min(cols), rows.max(cols));
    let mut a = vec![0.0; k * len];
    for i in 0..rows {
        for j in 0..cols {
            let (c, r) = if rows >= cols { (j, i) } else { (i, j) };
            a[c * len + r] = m[(i, j)];
        }
    }
    let column_norms = |a: &[f64]| -> Vec<f64> {
        (0..k)
            .map(|c| {
                let col = &a[c * len..(c + 1) * len];
                dot(col, col)
            })
            .collect()
    };
    for _ in 0..MAX_SWEEPS {
        // Exact squared norms at the start of each sweep; within it they are updated.
        let mut norms = column_norms(&a);
        let mut rotated = false;
        for p in 0..k {
            for q in p + 1..k {
                let (head, tail) = a.split_at_mut(q * len);
                let (x, y) = (&mut head[p * len..(p + 1) * len], &mut tail[..len]);
                let gamma = dot(x, y);
                let (alpha, beta) = (norms[p], norms[q]);
                // Orthogonal to working precision (also when a column is zero, or NaN): leave
                // it.
                if !exceeds(gamma, f64::EPSILON * (alpha * beta).sqrt()) {
                    continue;
                }
                rotated = true;
                let (c, s, t) = rotation(alpha, beta, gamma);
                for (xi, yi) in x.iter_mut().zip(y.iter_mut()) {
                    let (u, v) = (*xi, *yi);
                    *xi = c * u - s * v;
                    *yi = s * u + c * v;
                }
                norms[p] = alpha - t * gamma;
                norms[q] = beta + t * gamma;
            }
        }
        if !rotated {
            break;
        }
    }
    let mut s: Vec<f64> = column_norms(&a).into_iter().map(f64::sqrt).collect();
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

/// The eigenvalues and eigenvectors of the symmetric matrix `m` (only its lower triangle
/// is read): `(values, vectors)` with `vectors[(i, j)]` the i-th component of the j-th
/// eigenvector (unit length), in no particular order.
///
/// # Panics
/// If `m` is not square.
pub fn symmetric_eigen(m: &Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = m.nrows();
    assert_eq!(n, m.ncols(), "an eigen-decomposition needs a square matrix");
    let mut a = Array2::from_shape_fn((n, n), |(i, j)| if i >= j { m[(i, j)] } else { m[(j, i)] });
    let mut v = Array2::<f64>::eye(n);
    let scale = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    // Off-diagonal entries this small change no eigenvalue by more than ε² of the norm.
    let negligible = f64::EPSILON * f64::EPSILON * scale;
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let gamma = a[(q, p)];
                let (alpha, beta) = (a[(p, p)], a[(q, q)]);
                if !(exceeds(gamma, negligible)
                    && exceeds(gamma, f64::EPSILON * (alpha * beta).abs().sqrt()))
                {
                    continue;
                }
                rotated = true;
                let (c, s, t) = rotation(alpha, beta, gamma);
                // A ← Rᵀ A R: columns p and q, then rows p and q; then the 2 × 2 block
                // exactly.
                for r in 0..n {
                    let (u, w) = (a[(r, p)], a[(r, q)]);
                    a[(r, p)] = c * u - s * w;
                    a[(r, q)] = s * u + c * w;
                }
                for col in 0..n {
                    let (u, w) = (a[(p, col)], a[(q, col)]);
                    a[(p, col)] = c * u - s * w;
                    a[(q, col)] = s * u + c * w;
                }
                a[(p, p)] = alpha - t * gamma;
                a[(q, q)] = beta + t * gamma;
                a[(p, q)] = 0.0;
                a[(q, p)] = 0.0;
                for r in 0..n {
                    let (u, w) = (v[(r, p)], v[(r, q)]);
                    v[(r, p)] = c * u - s * w;
                    v[(r, q)] = s * u + c * w;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    ((0..n).map(|i| a[(i, i)]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible pseudo-random number in [−1, 1) (a 64-bit LCG's top bits).
    fn noise(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut state = seed;
        Array2::from_shape_simple_fn((rows, cols), || noise(&mut state))
    }

    /// I − 2 u uᵀ / (uᵀ u): an orthogonal matrix.
    fn householder(n: usize, seed: u64) -> Array2<f64> {
        let mut state = seed;
        let u: Vec<f64> = (0..n).map(|_| noise(&mut state)).collect();
        let uu: f64 = u.iter().map(|x| x * x).sum();
        Array2::from_shape_fn((n, n), |(i, j)| {
            f64::from(u8::from(i == j)) - 2.0 * u[i] * u[j] / uu
        })
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs())
    }

    #[test]
    fn singular_values_of_known_matrices() {
        // Q₁ diag(s) Q₂ with orthogonal Q₁, Q₂: exactly s, also for widely spread s.
        let want = [1e6, 3.0, 1.0, 0.25, 1e-3, 1e-9];
        let n = want.len();
        let d = Array2::from_shape_fn((n, n), |(i, j)| if i == j { want[i] } else { 0.0 });
        let m = householder(n, 1).dot(&d).dot(&householder(n, 2));
        let s = singular_values(&m);
        assert_eq!(s.len(), n);
        for (got, want) in s.iter().zip(want) {
            // The tiny ones to about ε · s_max / s, the rest to a few ulps.
            assert!(close(*got, want, 1e-13 * (1e6 / want).max(1.0)), "{s:?}");
        }
        // Diagonal, with signs and out of order.
        let d = Array2::from_diag(&ndarray::arr1(&[3.0, -0.5, 2.0, 0.0]));
        assert_eq!(singular_values(&d), vec![3.0, 2.0, 0.5, 0.0]);
        // Rank one: u vᵀ has one singular value |u| |v|.
        let m = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64 + 1.0) * (j as f64 - 0.5));
        let s = singular_values(&m);
        let norm = (55.0f64).sqrt() * (0.25f64 + 0.25 + 2.25).sqrt();
        assert!(
            close(s[0], norm, 1e-15) && s[1] < 1e-14 && s[2] < 1e-14,
            "{s:?}"
        );
    }

    #[test]
    fn singular_values_keep_the_frobenius_norm_and_the_shape() {
        for (rows, cols) in [(1, 1), (1, 7), (7, 1), (40, 40), (50, 17), (17, 50)] {
            let m = random(rows, cols, (rows * 100 + cols) as u64);
            let s = singular_values(&m);
            assert_eq!(s.len(), rows.min(cols));
            assert!(s.windows(2).all(|w| w[0] >= w[1]));
            let frobenius: f64 = m.iter().map(|x| x * x).sum();
            let squares: f64 = s.iter().map(|x| x * x).sum();
            assert!(close(frobenius, squares, 1e-13), "{rows}×{cols}");
            // mᵀ has the same singular values.
            let t = singular_values(&m.t().to_owned());
            assert!(s.iter().zip(&t).all(|(a, b)| close(*a, *b, 1e-12)));
        }
        assert!(singular_values(&Array2::zeros((0, 3))).is_empty());
    }

    #[test]
    fn symmetric_eigen_of_the_path_matrix() {
        // 0 on the diagonal, 1 beside it: eigenvalues 2 cos(kπ/(n + 1)), k = 1..n.
        for n in [1, 2, 5, 33] {
            let m = Array2::from_shape_fn((n, n), |(i, j)| f64::from(u8::from(i.abs_diff(j) == 1)));
            let (mut values, vectors) = symmetric_eigen(&m);
            // A v = λ v, VᵀV = I.
            for (j, &lambda) in values.iter().enumerate() {
                let col = vectors.column(j);
                let residual = &m.dot(&col) - &col.mapv(|x| x * lambda);
                assert!(residual.iter().all(|r| r.abs() < 1e-14), "n = {n}");
            }
            let gram = vectors.t().dot(&vectors);
            let eye = Array2::<f64>::eye(n);
            assert!(gram.iter().zip(&eye).all(|(g, e)| (g - e).abs() < 1e-14));
            values.sort_by(f64::total_cmp);
            for (k, got) in values.iter().enumerate() {
                let want = 2.0 * (std::f64::consts::PI * (n - k) as f64 / (n + 1) as f64).cos();
                assert!((got - want).abs() < 1e-14, "n = {n}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn symmetric_eigen_of_a_random_matrix() {
        let r = random(30, 30, 7);
        let m = &r + &r.t();
        let (values, vectors) = symmetric_eigen(&m);
        // V diag(λ) Vᵀ = M.
        let rebuilt = vectors
            .dot(&Array2::from_diag(&ndarray::arr1(&values)))
            .dot(&vectors.t());
        assert!(rebuilt.iter().zip(&m).all(|(a, b)| (a - b).abs() < 1e-13));
        let trace: f64 = (0..30).map(|i| m[(i, i)]).sum();
        assert!((values.iter().sum::<f64>() - trace).abs() < 1e-12);
    }
}
