//! Matrix product with caller-owned scratch (temporary stand-in built on ndarray's
//! `general_mat_mul`; replaced by the allocation-free kernel).

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

/// Element types the kernel supports (implemented for f32 and f64).
pub trait GemmScalar: LinalgScalar + PartialEq + Send + Sync + 'static {}
impl GemmScalar for f32 {}
impl GemmScalar for f64 {}

/// Caller-owned packing buffers.
#[derive(Debug)]
pub struct GemmScratch<T> {
    _marker: std::marker::PhantomData<T>,
}

impl<T> Default for GemmScratch<T> {
    fn default() -> Self {
        Self {
            _marker: std::marker::PhantomData,
        }
    }
}

/// `c = alpha · a · b + beta · c`.
pub fn gemm<T: GemmScalar>(
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    mut c: ArrayViewMut2<T>,
    _scratch: &mut GemmScratch<T>,
    _threads: usize,
) {
    if beta == T::zero() {
        c.fill(T::zero());
    }
    ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
}
