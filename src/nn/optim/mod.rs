//! Optimizers: the only code that changes weights after initialization.
//!
//! An optimizer is per-parameter state plus an update (as optax and llm.c write them): it
//! walks the model's parameter list ([`ParamSet`]) beside the gradients and its own state,
//! tensor by tensor, and never knows what a tensor is for. Every formula is PyTorch's,
//! written in the module of its optimizer:
//!
//! | optimizer | file | state per parameter |
//! |---|---|---|
//! | SGD (momentum, nesterov, dampening, weight decay) | `sgd.rs` | velocity (with momentum) |
//! | Adam, AdamW | `adam.rs` | first and second moments |
//! | RMSprop | `rmsprop.rs` | mean square (and velocity with momentum) |
//!
//! State is created by `prepare`, before the first step, so no step allocates. One driver,
//! [`update_tensors`], runs every optimizer's element-wise update on the requested number of
//! threads: the tensors are cut into blocks that the threads take from one shared counter,
//! meeting once per step, and every value gets the same arithmetic wherever it lands, so the
//! result is the same bit for bit whatever the thread count.
//!
//! A parametrization (μP, NTK; see [`crate::nn::parametrization`]) gives each tensor a
//! learning-rate multiplier, carried by the model ([`ParamSet::learning_rate_multiplier`]):
//! the driver asks each tensor for it and, when it is not 1, runs that tensor's values with
//! the rule [`Update::scaled`] makes (learning rate × m, weight decay ÷ m, as mup's `MuSGD` /
//! `MuAdam` scale their parameter groups). A multiplier of exactly 1 runs the rule as it is,
//! so the standard parametrization computes what it always did, bit for bit.

mod adam;
mod rmsprop;
mod sgd;

pub use adam::Adam;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use std::sync::atomic::{AtomicUsize, Ordering};

use super::float::{DenormalMode, Float};
use super::param::{ParamList, ParamSet};
use super::pieces::on_threads;

/// Values per work item of a threaded update: tensors are cut into blocks of this many values
/// (128 KiB of `f32`), a smaller tensor is one item (see [`update_tensors`]).
pub const PAR_BLOCK: usize = 1 << 15;

/// Any of the optimizers, as an experiment chooses one.
#[derive(Clone, Debug)]
pub enum Optimizer<T> {
    /// Stochastic gradient descent.
    Sgd(Sgd<T>),
    /// Adam or AdamW.
    Adam(Adam<T>),
    /// RMSprop.
    RmsProp(RmsProp<T>),
}

impl<T: Float> Optimizer<T> {
    /// Makes the state for `params` now, so that no step allocates.
    pub fn prepare<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
        match self {
            Optimizer::Sgd(o) => o.prepare(params),
            Optimizer::Adam(o) => o.prepare(params),
            Optimizer::RmsProp(o) => o.prepare(params),
        }
    }

    /// Applies one update to `params` from `grads`, on up to `threads` threads (call it
    /// inside a rayon pool of that many); the result does not depend on `threads`.
    pub fn step<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        match self {
            Optimizer::Sgd(o) => o.step_threaded(params, grads, threads),
            Optimizer::Adam(o) => o.step_threaded(params, grads, threads),
            Optimizer::RmsProp(o) => o.step_threaded(params, grads, threads),
        }
    }

    /// The learning rate.
    pub fn learning_rate(&self) -> f64 {
        match self {
            Optimizer::Sgd(o) => o.learning_rate,
            Optimizer::Adam(o) => o.learning_rate,
            Optimizer::RmsProp(o) => o.learning_rate,
        }
    }

    /// How many copies of the parameters its state holds (for memory estimates).
    pub fn state_copies(&self) -> usize {
        match self {
            Optimizer::Sgd(o) => usize::from(o.momentum != 0.0),
            Optimizer::Adam(_) => 2,
            Optimizer::RmsProp(o) => 1 + usize::from(o.momentum != 0.0),
        }
    }
}

/// What the training loop asks of an optimizer: state made before the first step, then one
/// step at a time. [`Sgd`], [`Adam`], [`RmsProp`] and [`Optimizer`] implement it.
pub trait Step<T> {
    /// Makes the state for `params` now, so that no step allocates.
    fn prepare_for<P: ParamSet<T> + ?Sized>(&mut self, params: &P);
    /// One update of `params` from `grads` on up to `threads` threads.
    fn step_on<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized;
}

macro_rules! impl_step {
    ($($t:ident),*) => {$(
        impl<T: Float> Step<T> for $t<T> {
            fn prepare_for<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
                self.prepare(params);
            }
            fn step_on<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
            where
                P: ParamSet<T> + ?Sized,
                G: ParamSet<T> + ?Sized,
            {
                self.step_threaded(params, grads, threads);
            }
        }
    )*};
}
impl_step!(Sgd, Adam, RmsProp);

impl<T: Float> Step<T> for Optimizer<T> {
    fn prepare_for<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
        self.prepare(params);
    }
    fn step_on<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        self.step(params, grads, threads);
    }
}

/// The element-wise update of one piece of one tensor: parameter values, their gradients,
/// and up to two state slices of the same length (empty when the optimizer keeps fewer).
///
/// It must treat each value alone (a value's new state and weight depend only on its own
/// weight, gradient and state), so that how a tensor is cut between threads cannot matter.
pub trait Update<T>: Sync + Sized {
    /// Updates `w` in place from `g`, reading and writing the state.
    fn apply(&self, w: &mut [T], g: &[T], s0: &mut [T], s1: &mut [T]);

    /// The same step's rule for a tensor whose learning rate is multiplied by
    /// `lr_multiplier` and whose weight decay is divided by it (mup's convention: the
    /// product learning rate × weight decay stays the same). Made on the stack, per tensor
    /// and step; allocates nothing.
    fn scaled(&self, lr_multiplier: f64) -> Self;
}

/// Tensors shared out by one pass of a threaded update (the pass's table is on the stack, so
/// a step allocates nothing); a model with more tensors takes several passes.
const PASS_TENSORS: usize = 64;

/// Runs `update` over every tensor of `params` with its gradient and state (`state` holds up
/// to two [`ParamList`]s numbered like `params`), on up to `threads` threads.
///
/// A model of fewer than 2 × [`PAR_BLOCK`] values, or one thread, is updated on the calling
/// thread, tensor by tensor. Otherwise the work items are the blocks of [`PAR_BLOCK`] values
/// of every tensor (a smaller tensor is one item), and the threads take them from one shared
/// counter until none is left: the threads meet once per step (once per 64
/// tensors), whatever the number of tensors and however the work falls between them (a join
/// per large tensor, as before, met them twice per W3 step and split each tensor in fixed
/// halves; see docs/benchmarks.md, "The two-thread step"). Each value gets the same arithmetic
/// whichever thread takes its block, so the result is the same bit for bit whatever the thread
/// count. Threads compute with the caller's denormal mode.
///
/// # Panics
/// If the gradients or the state are not shaped like the parameters, or if two of `params`'
/// tensors overlap in memory (a broken [`ParamSet`]).
pub fn update_tensors<T, P, G>(
    params: &mut P,
    grads: &G,
    state: &mut [ParamList<T>],
    threads: usize,
    update: &impl Update<T>,
) where
    T: Float,
    P: ParamSet<T> + ?Sized,
    G: ParamSet<T> + ?Sized,
{
    let count = params.tensor_count();
    assert_eq!(
        count,
        grads.tensor_count(),
        "one gradient per parameter tensor"
    );
    assert!(state.len() <= 2, "at most two state tensors per parameter");
    if threads < 2 || params.value_count() < 2 * PAR_BLOCK {
        // Small models (every model of the small workloads): no thread, no mode to pass.
        for i in 0..count {
            let multiplier = params.learning_rate_multiplier(i);
            let (w, g, s0, s1) = tensor_parts(params, grads, state, i);
            if multiplier == 1.0 {
                update.apply(w, g, s0, s1);
            } else {
                update.scaled(multiplier).apply(w, g, s0, s1);
            }
        }
        return;
    }
    let mode = DenormalMode::current();
    let mut first = 0;
    while first < count {
        let end = (first + PASS_TENSORS).min(count);
        let mut table = [Piece::EMPTY; PASS_TENSORS];
        let mut items = 0;
        for (piece, i) in table.iter_mut().zip(first..end) {
            let multiplier = params.learning_rate_multiplier(i);
            *piece = Piece::of(tensor_parts(params, grads, state, i), items, multiplier);
            items += piece.blocks();
        }
        let table = &table[..end - first];
        assert_separate(table);
        let next = AtomicUsize::new(0);
        let work = || {
            let _mode = mode.enter();
            // Items come in increasing order, so the piece of the next one is at or after
            // the piece of the last one.
            let mut p = 0;
            loop {
                let item = next.fetch_add(1, Ordering::Relaxed);
                if item >= items {
                    break;
                }
                while table[p].first_item + table[p].blocks() <= item {
                    p += 1;
                }
                // SAFETY: `fetch_add` hands each item to one thread only, the blocks of a
                // piece do not overlap, and the pieces do not overlap (checked above for the
                // parameters; the state tensors are separate vectors). The borrows behind the
                // table outlive the pass: `on_threads` returns when every thread is done.
                let (w, g, s0, s1) = unsafe { table[p].block(item - table[p].first_item) };
                if table[p].multiplier == 1.0 {
                    update.apply(w, g, s0, s1);
                } else {
                    // The tensor's own rule (μP, NTK), made on the stack for this block.
                    update.scaled(table[p].multiplier).apply(w, g, s0, s1);
                }
            }
        };
        on_threads(threads.min(items), &work);
        first = end;
    }
}

/// Tensor `i`'s parameters, gradient and state (empty slices for state the optimizer lacks).
fn tensor_parts<'a, T, P, G>(
    params: &'a mut P,
    grads: &'a G,
    state: &'a mut [ParamList<T>],
    i: usize,
) -> (&'a mut [T], &'a [T], &'a mut [T], &'a mut [T])
where
    P: ParamSet<T> + ?Sized,
    G: ParamSet<T> + ?Sized,
{
    let w = params.tensor_mut(i);
    let g = grads.tensor(i);
    assert_eq!(w.len(), g.len(), "parameter and gradient shapes differ");
    let (s0, s1): (&mut [T], &mut [T]) = match state {
        [] => (&mut [], &mut []),
        [a] => (a.tensor_mut(i), &mut []),
        [a, b] => (a.tensor_mut(i), b.tensor_mut(i)),
        _ => unreachable!("at most two state tensors"),
    };
    assert!(
        [s0.len(), s1.len()].iter().all(|&n| n == 0 || n == w.len()),
        "state and parameter shapes differ"
    );
    (w, g, s0, s1)
}

/// One tensor of a threaded pass, as raw parts the threads share: its parameters, gradient
/// and state, and the number of its first work item.
#[derive(Clone, Copy)]
struct Piece<T> {
    w: *mut T,
    g: *const T,
    s0: *mut T,
    s1: *mut T,
    len: usize,
    /// The state tensors' lengths: `len`, or 0 where the optimizer keeps fewer.
    s0_len: usize,
    s1_len: usize,
    first_item: usize,
    /// The tensor's learning-rate multiplier (1 but under a parametrization).
    multiplier: f64,
}

// SAFETY: a `Piece` is only pointers into buffers the update borrows for the whole pass; the
// threads touch disjoint blocks of them (see `update_tensors`).
unsafe impl<T: Send + Sync> Sync for Piece<T> {}

impl<T> Piece<T> {
    const EMPTY: Piece<T> = Piece {
        w: std::ptr::null_mut(),
        g: std::ptr::null(),
        s0: std::ptr::null_mut(),
        s1: std::ptr::null_mut(),
        len: 0,
        s0_len: 0,
        s1_len: 0,
        first_item: 0,
        multiplier: 1.0,
    };

    fn of(
        (w, g, s0, s1): (&mut [T], &[T], &mut [T], &mut [T]),
        first_item: usize,
        multiplier: f64,
    ) -> Self {
        Piece {
            w: w.as_mut_ptr(),
            g: g.as_ptr(),
            s0: s0.as_mut_ptr(),
            s1: s1.as_mut_ptr(),
            len: w.len(),
            s0_len: s0.len(),
            s1_len: s1.len(),
            first_item,
            multiplier,
        }
    }

    /// Work items: blocks of [`PAR_BLOCK`] values, the last one shorter (none when empty).
    fn blocks(&self) -> usize {
        self.len.div_ceil(PAR_BLOCK)
    }

    /// Block `b`'s parameters, gradient and state.
    ///
    /// # Safety
    /// `b < self.blocks()`; the buffers behind the piece stay alive for `'a`, and no other
    /// reference to this block's values exists meanwhile.
    unsafe fn block<'a>(&self, b: usize) -> (&'a mut [T], &'a [T], &'a mut [T], &'a mut [T]) {
        let start = b * PAR_BLOCK;
        let len = PAR_BLOCK.min(self.len - start);
        // SAFETY: start + len ≤ self.len, the length of every non-empty buffer (caller
        // contract for the rest).
        unsafe {
            (
                std::slice::from_raw_parts_mut(self.w.add(start), len),
                std::slice::from_raw_parts(self.g.add(start), len),
                state_block(self.s0, self.s0_len, start, len),
                state_block(self.s1, self.s1_len, start, len),
            )
        }
    }
}

/// Values `start..start + len` of a state tensor of `n` values at `ptr`; empty when `n` is 0
/// (no state).
///
/// # Safety
/// As [`Piece::block`], with `start + len ≤ n` when `n > 0`.
unsafe fn state_block<'a, T>(ptr: *mut T, n: usize, start: usize, len: usize) -> &'a mut [T] {
    if n == 0 {
        &mut []
    } else {
        // SAFETY: caller contract.
        unsafe { std::slice::from_raw_parts_mut(ptr.add(start), len) }
    }
}

/// Panics if two pieces' parameters overlap in memory (the threads would write the same
/// values): a [`ParamSet`] must give separate tensors.
fn assert_separate<T>(table: &[Piece<T>]) {
    let mut spans = [(0usize, 0usize); PASS_TENSORS];
    let mut n = 0;
    for piece in table.iter().filter(|p| p.len > 0) {
        let start = piece.w as usize;
        spans[n] = (start, start + piece.len * std::mem::size_of::<T>());
        n += 1;
    }
    let spans = &mut spans[..n];
    spans.sort_unstable();
    assert!(
        spans.windows(2).all(|pair| pair[0].1 <= pair[1].0),
        "two parameter tensors overlap in memory"
    );
}

/// Checks optimizer hyper-parameters the way PyTorch's constructors do, with the TOML key
/// in the message.
pub(crate) fn check_range(key: &str, value: f64, low: f64, high: f64) -> Result<(), String> {
    if value.is_finite() && value >= low && value < high {
        Ok(())
    } else if high.is_infinite() {
        Err(format!(
            "training.optimizer.{key} must be a finite number ≥ {low}, got {value}"
        ))
    } else {
        Err(format!(
            "training.optimizer.{key} must be a finite number in [{low}, {high}), got {value}"
        ))
    }
}
