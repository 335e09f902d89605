//! Work cut into contiguous pieces that run on several threads at once: nested
//! `rayon::join`, the caller running one piece and waiting for the others.
//!
//! One splitter serves the engine's threaded loops:
//!
//! - `join_pieces`, the core: `pieces` pieces of near-equal length along an axis. The
//!   optimizer's update runs its workers with it (`on_threads`), the matrix product and the
//!   data-parallel step one task per packing area or scratch (pieces of one).
//! - `rows` and `columns`, for the layer engine's element-wise layers (activation,
//!   LayerNorm, BatchNorm, scale, the residual adds): at most one piece per thread, and a
//!   least number of values per piece that depends on the `Cost` of a value (fewer values run
//!   on the calling thread, where another thread would cost more than it saves), each piece in
//!   the caller's [`DenormalMode`].
//!
//! A piece computes exactly what the whole loop computes on its part. Row pieces suit work
//! that is per row (an activation, LayerNorm's row statistics); work that sums over the rows
//! (BatchNorm's statistics, LayerNorm's dγ and dβ) takes column pieces, so that each column is
//! still summed over all the rows in row order. Results are then the same bits on any number
//! of threads. Nothing here allocates: the pieces are views and slices of the caller's
//! buffers, and a join's job lives on the stack (when the caller is a worker of a rayon pool;
//! see [`crate::nn::gemm::gemm`] for a caller from outside one).

use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use super::float::DenormalMode;

/// Fewest values (the first part's, e.g. an activation's input) a piece of heavy work
/// (`Cost::Heavy`: norms, GELU, SiLU) gets: such a layer of fewer than twice this many runs
/// on the calling thread.
pub const MIN_PIECE_VALUES: usize = 8192;

/// Fewest values a piece of light work (`Cost::Light`: copies, adds, scales, ReLU, tanh, …)
/// gets: such a layer of fewer than twice this many runs on the calling thread.
pub const MIN_LIGHT_PIECE_VALUES: usize = 1 << 17;

/// What a value of a piece of work costs, which decides how many values a piece needs to pay
/// for its thread. Measured on the 2-core machine of docs/benchmarks.md, one layer's step at
/// 1 and 2 threads: a piece another thread computes costs the join, and then the caller reads
/// the values that thread wrote from the other core's cache, about as slow as computing them
/// again when computing them is one or two operations. So GELU (f64 per value) ran 1.8×
/// faster on two threads from 2K values on, LayerNorm and BatchNorm 1.1–1.4× from 4K to 64K;
/// while ReLU, a scale or a residual add ran *slower* on two threads up to 128K values
/// (0.5–0.9×) and about even at 256K–1M, and the vectorized `f32` tanh and sigmoid kernels
/// broke even near 64K and gained 1.3–2× from 256K.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cost {
    /// A few operations per value, vectorized: copies, adds, scales, the activations whose
    /// derivative comes from their output (ReLU, tanh, sigmoid, …; see
    /// [`crate::nn::Activation::derivative_from_output`]). Pieces of at least
    /// [`MIN_LIGHT_PIECE_VALUES`].
    Light,
    /// Tens of operations per value: LayerNorm and BatchNorm (statistics summed in `f64`), the
    /// activations computed in `f64` from their input (GELU, SiLU). Pieces of at least
    /// [`MIN_PIECE_VALUES`].
    Heavy,
}

impl Cost {
    /// Fewest values a piece gets.
    pub(crate) fn min_piece(self) -> usize {
        match self {
            Cost::Light => MIN_LIGHT_PIECE_VALUES,
            Cost::Heavy => MIN_PIECE_VALUES,
        }
    }
}

/// What a piece of work reads and writes, cut in two along an axis: a 2-D view along that
/// axis, a slice or range as indexed by it (a per-row vector beside rows, a per-feature one
/// beside columns), or a tuple of such parts cut at the same place.
pub(crate) trait Split: Sized + Send {
    /// Length along `axis` (a tuple's: its first part's).
    fn len_along(&self, axis: Axis) -> usize;
    /// Number of values (a tuple's: its first part's), for the threshold of [`rows`] and
    /// [`columns`].
    fn values(&self) -> usize;
    /// The first `at` rows or columns, and the rest.
    fn split_at(self, axis: Axis, at: usize) -> (Self, Self);
}

impl<T: Sync> Split for ArrayView2<'_, T> {
    fn len_along(&self, axis: Axis) -> usize {
        self.len_of(axis)
    }
    fn values(&self) -> usize {
        self.len()
    }
    fn split_at(self, axis: Axis, at: usize) -> (Self, Self) {
        ArrayView2::split_at(self, axis, at)
    }
}

impl<T: Send> Split for ArrayViewMut2<'_, T> {
    fn len_along(&self, axis: Axis) -> usize {
        self.len_of(axis)
    }
    fn values(&self) -> usize {
        self.len()
    }
    fn split_at(self, axis: Axis, at: usize) -> (Self, Self) {
        ArrayViewMut2::split_at(self, axis, at)
    }
}

impl<T: Sync> Split for &[T] {
    fn len_along(&self, _: Axis) -> usize {
        self.len()
    }
    fn values(&self) -> usize {
        self.len()
    }
    fn split_at(self, _: Axis, at: usize) -> (Self, Self) {
        <[T]>::split_at(self, at)
    }
}

impl<T: Send> Split for &mut [T] {
    fn len_along(&self, _: Axis) -> usize {
        self.len()
    }
    fn values(&self) -> usize {
        self.len()
    }
    fn split_at(self, _: Axis, at: usize) -> (Self, Self) {
        <[T]>::split_at_mut(self, at)
    }
}

impl Split for Range<usize> {
    fn len_along(&self, _: Axis) -> usize {
        self.len()
    }
    fn values(&self) -> usize {
        self.len()
    }
    fn split_at(self, _: Axis, at: usize) -> (Self, Self) {
        let middle = self.start + at;
        (self.start..middle, middle..self.end)
    }
}

/// An output that may not be wanted (an input gradient): both halves `None` when it is not.
impl<S: Split> Split for Option<S> {
    fn len_along(&self, axis: Axis) -> usize {
        self.as_ref().map_or(0, |s| s.len_along(axis))
    }
    fn values(&self) -> usize {
        self.as_ref().map_or(0, Split::values)
    }
    fn split_at(self, axis: Axis, at: usize) -> (Self, Self) {
        match self {
            Some(s) => {
                let (a, b) = s.split_at(axis, at);
                (Some(a), Some(b))
            }
            None => (None, None),
        }
    }
}

macro_rules! split_tuple {
    ($first:ident $(, $rest:ident)*) => {
        #[allow(non_snake_case)] // the type names double as the parts' names
        impl<$first: Split $(, $rest: Split)*> Split for ($first, $($rest,)*) {
            fn len_along(&self, axis: Axis) -> usize {
                self.0.len_along(axis)
            }
            fn values(&self) -> usize {
                self.0.values()
            }
            fn split_at(self, axis: Axis, at: usize) -> (Self, Self) {
                let ($first, $($rest,)*) = self;
                let $first = $first.split_at(axis, at);
                $(let $rest = $rest.split_at(axis, at);)*
                (($first.0, $($rest.0,)*), ($first.1, $($rest.1,)*))
            }
        }
    };
}
split_tuple!(A, B);
split_tuple!(A, B, C);
split_tuple!(A, B, C, D);
split_tuple!(A, B, C, D, E);
split_tuple!(A, B, C, D, E, F);
split_tuple!(A, B, C, D, E, F, G);
split_tuple!(A, B, C, D, E, F, G, H);

/// Cuts `parts` along `axis` into `pieces` contiguous pieces of near-equal length and runs
/// `work` on each, all at once: nested `rayon::join`, the caller running one piece (0 or 1
/// piece: `work(parts)` on the calling thread).
pub(crate) fn join_pieces<P: Split>(
    pieces: usize,
    axis: Axis,
    parts: P,
    work: &(impl Fn(P) + Sync),
) {
    if pieces < 2 {
        work(parts);
        return;
    }
    let left = pieces / 2;
    let at = parts.len_along(axis) * left / pieces;
    let (head, tail) = parts.split_at(axis, at);
    rayon::join(
        || join_pieces(left, axis, head, work),
        || join_pieces(pieces - left, axis, tail, work),
    );
}

/// Runs `work` on `threads` threads at once (the caller is one of them).
pub(crate) fn on_threads(threads: usize, work: &(impl Fn() + Sync)) {
    join_pieces(threads, Axis(0), 0..threads, &|_| work());
}

/// Runs `work` on row pieces of `parts` (at most `threads`, each of at least
/// [`Cost::min_piece`] values): for work that is per row, or per value.
pub(crate) fn rows<P: Split>(threads: usize, cost: Cost, parts: P, work: impl Fn(P) + Sync) {
    on_pieces(threads, cost, Axis(0), parts, work);
}

/// Runs `work` on column pieces of `parts` (at most `threads`, each of at least
/// [`Cost::min_piece`] values): for work that sums over the rows, column by column, so that
/// each sum keeps its order.
pub(crate) fn columns<P: Split>(threads: usize, cost: Cost, parts: P, work: impl Fn(P) + Sync) {
    on_pieces(threads, cost, Axis(1), parts, work);
}

fn on_pieces<P: Split>(threads: usize, cost: Cost, axis: Axis, parts: P, work: impl Fn(P) + Sync) {
    let pieces = threads
        .min(parts.len_along(axis))
        .min(parts.values() / cost.min_piece());
    if pieces < 2 {
        work(parts);
        return;
    }
    // Another thread runs a piece in the caller's mode (see `DenormalMode`), so that it
    // computes the bits the caller would.
    let mode = DenormalMode::current();
    join_pieces(pieces, axis, parts, &|piece| {
        let _mode = mode.enter();
        work(piece)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// The pieces `join_pieces` makes of `0..n`, in order.
    fn pieces_of(n: usize, pieces: usize) -> Vec<Range<usize>> {
        let seen = Mutex::new(Vec::new());
        join_pieces(pieces, Axis(0), 0..n, &|r| seen.lock().unwrap().push(r));
        let mut seen = seen.into_inner().unwrap();
        seen.sort_by_key(|r| (r.start, r.end));
        seen
    }

    #[test]
    fn pieces_cover_the_range_once_in_near_equal_lengths() {
        for n in [0, 1, 2, 5, 7, 10, 100, 250, 256] {
            for pieces in 0..=9 {
                let seen = pieces_of(n, pieces);
                assert_eq!(seen.len(), pieces.max(1), "{n} in {pieces}");
                assert!(seen.windows(2).all(|w| w[0].end == w[1].start), "{seen:?}");
                assert_eq!((seen[0].start, seen[seen.len() - 1].end), (0, n));
                let lengths = seen.iter().map(|r| r.len());
                let (short, long) = (lengths.clone().min(), lengths.max());
                assert!(
                    long.unwrap() - short.unwrap() <= 1,
                    "{n} in {pieces}: {seen:?}"
                );
            }
        }
    }

    /// How many pieces `rows` (or `columns`) cuts a (rows, cols) array into on `threads`.
    fn count(by_columns: bool, cost: Cost, shape: (usize, usize), threads: usize) -> usize {
        let x = Array2::<f32>::zeros(shape);
        let calls = AtomicUsize::new(0);
        let work = |_: ArrayView2<f32>| {
            calls.fetch_add(1, Ordering::Relaxed);
        };
        if by_columns {
            columns(threads, cost, x.view(), work);
        } else {
            rows(threads, cost, x.view(), work);
        }
        calls.into_inner()
    }

    #[test]
    fn small_layers_stay_on_the_calling_thread_and_large_ones_take_every_thread() {
        for cost in [Cost::Heavy, Cost::Light] {
            let min = cost.min_piece();
            let just_under = (2, min - 1);
            let two = (2 * min / 64, 64);
            let four = (4 * min / 64, 64);
            for by_columns in [false, true] {
                assert_eq!(count(by_columns, cost, just_under, 4), 1);
                assert_eq!(count(by_columns, cost, two, 1), 1);
                assert_eq!(count(by_columns, cost, two, 2), 2);
                assert_eq!(count(by_columns, cost, two, 4), 2, "at least {min} a piece");
                assert_eq!(count(by_columns, cost, four, 3), 3);
            }
            // Never more pieces than rows (or columns).
            assert_eq!(count(false, cost, (2, 4 * min), 4), 2);
            assert_eq!(count(true, cost, (4 * min, 3), 4), 3);
        }
    }

    #[test]
    fn a_piece_on_another_thread_runs_in_the_callers_mode() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let x = Array2::<f32>::zeros((2, MIN_PIECE_VALUES));
        for mode in [DenormalMode::Flush, DenormalMode::Keep] {
            let seen = Mutex::new(Vec::new());
            let second_started = AtomicBool::new(false);
            let callers = pool.install(|| {
                let _mode = mode.enter();
                rows(2, Cost::Heavy, (x.view(), 0..2), |(_, piece)| {
                    if piece.start == 0 {
                        // The caller's piece: wait until the other thread has taken the
                        // second one, so that it really runs elsewhere.
                        let start = Instant::now();
                        while !second_started.load(Ordering::Acquire) {
                            assert!(start.elapsed() < Duration::from_secs(20), "no steal");
                            std::hint::spin_loop();
                        }
                    } else {
                        second_started.store(true, Ordering::Release);
                    }
                    let here = (rayon::current_thread_index(), DenormalMode::current());
                    seen.lock().unwrap().push(here);
                });
                (rayon::current_thread_index(), DenormalMode::current())
            });
            let seen = seen.into_inner().unwrap();
            assert_eq!(seen.len(), 2);
            assert_ne!(seen[0].0, seen[1].0, "the pieces ran on two threads");
            assert!(seen.iter().all(|s| s.1 == callers.1), "{mode:?}: {seen:?}");
            // The mode was the piece's only: every thread has its own back.
            let after = pool.broadcast(|_| DenormalMode::current());
            assert!(after.iter().all(|m| *m == DenormalMode::Keep), "{after:?}");
        }
    }
}
