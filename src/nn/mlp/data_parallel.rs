//! The forward and backward pass on several threads: data parallel within the batch.
//!
//! A step's work is of two kinds. Everything computed *per row* (each layer's output, the
//! loss gradient at the logits, each layer's delta with its activation derivative) is
//! computed for a row by the same operations whatever other rows share the batch. Every
//! *sum over rows* (the weight gradients `dW_l = δ_lᵀ · a_{l-1}`, the bias gradients
//! `db_l = Σ_rows δ_l`, the loss) mixes the rows. So a step runs in two phases, and the
//! threads meet only between them and at the end:
//!
//! 1. **Rows.** The batch is cut into one contiguous range of rows per thread, with
//!    boundaries at multiples of [`ROW_ALIGN`] rows; each thread runs the forward pass, the
//!    loss gradient and the backward pass for its rows through every layer, alone.
//! 2. **Sums.** The sums over rows are cut by *output element*, never by row: the work items
//!    are blocks of whole tiles of each `dW_l` (about [`BLOCK_MACS`] multiply-adds each),
//!    each `db_l`, and the loss. The threads take items from a shared counter until none is
//!    left. An item sums over all the rows of the batch, in the order of the one-thread step.
//!
//! Why the thread count cannot change a single bit: every product of phase 1 uses the plan
//! of the whole batch ([`Plan::with_rows`]), under which each row gets exactly the operations
//! it gets in the whole product, whatever range it falls in; the activation kernels work
//! element by element; and each element of phase 2 is computed whole by whichever thread
//! takes it. The result equals [`Mlp::backward_from_output`]'s on one thread, bit for bit.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Ix2, RawArrayView, ShapeBuilder, s};

use super::{Gradients, Mlp, Workspace, slice_targets};
use crate::nn::dense::sum_rows_into;
use crate::nn::float::{DenormalMode, Float};
use crate::nn::gemm::{GemmScalar, GemmScratch, Plan, gemm_part};
use crate::nn::loss::TargetsView;
use crate::nn::pieces::join_pieces;

/// Row ranges of phase 1 start at multiples of this many rows.
pub const ROW_ALIGN: usize = 8;
/// Multiply-adds per item of phase 2 when a weight gradient is cut into blocks.
pub const BLOCK_MACS: usize = 1 << 22;
/// Fewest multiply-adds in a step (`3 · rows · weights`) for which threads pay off.
const MIN_STEP_MACS: usize = 1 << 19;

/// Whether a step of `rows` rows through `mlp` should run on `threads` threads.
pub(super) fn worth_threading<T: Float>(mlp: &Mlp<T>, rows: usize, threads: usize) -> bool {
    let weights: usize = mlp.layers.iter().map(|l| l.weight.len()).sum();
    threads > 1 && rows >= 2 * ROW_ALIGN && 3 * rows * weights >= MIN_STEP_MACS
}

/// The row range of part `p` of `parts` in a batch of `rows` rows: whole groups of
/// [`ROW_ALIGN`] rows, as even as they go.
fn part_rows(p: usize, parts: usize, rows: usize) -> Range<usize> {
    let groups = rows.div_ceil(ROW_ALIGN);
    let bound = |i: usize| (i * groups / parts * ROW_ALIGN).min(rows);
    bound(p)..bound(p + 1)
}

/// A row-major buffer the threads of a step share: in phase 1 each thread writes only its own
/// rows, in phase 2 the per-row buffers are only read and each gradient element is written
/// by one item.
#[derive(Clone, Copy, Debug)]
pub(super) struct SharedBuffer<T> {
    ptr: *mut T,
    rows: usize,
    width: usize,
}

// SAFETY: a `SharedBuffer` is only a pointer to a buffer the step owns (borrowed mutably for the
// whole step); the rules above keep the threads' accesses disjoint.
unsafe impl<T: Send> Send for SharedBuffer<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for SharedBuffer<T> {}

impl<T> SharedBuffer<T> {
    fn of(a: &mut Array2<T>) -> Self {
        assert!(a.is_standard_layout(), "step buffers are row-major");
        SharedBuffer {
            ptr: a.as_mut_ptr(),
            rows: a.nrows(),
            width: a.ncols(),
        }
    }

    /// The top-left `rows × cols` block as a raw view (for its shape and strides).
    fn raw(&self, rows: usize, cols: usize) -> RawArrayView<T, Ix2> {
        assert!(rows <= self.rows && cols <= self.width);
        let shape = (rows, cols).strides((self.width, 1));
        // SAFETY: inside the buffer; a raw view is never read through here.
        unsafe { RawArrayView::from_shape_ptr(shape, self.ptr as *const T) }
    }

    /// Rows `r` (columns `cols`), read-only.
    ///
    /// # Safety
    /// No thread may write these elements while the view lives.
    unsafe fn view(&self, r: Range<usize>, cols: Range<usize>) -> ArrayView2<'_, T> {
        assert!(r.end <= self.rows && cols.end <= self.width);
        let shape = (r.len(), cols.len()).strides((self.width, 1));
        // SAFETY: inside the buffer (checked above); no writer (caller contract).
        unsafe {
            ArrayView2::from_shape_ptr(shape, self.ptr.add(r.start * self.width + cols.start))
        }
    }

    /// Rows `r` (columns `cols`), writable.
    ///
    /// # Safety
    /// No other thread may read or write these elements while the view lives.
    #[allow(clippy::mut_from_ref)] // the buffer is borrowed mutably by the step; see the type
    unsafe fn view_mut(&self, r: Range<usize>, cols: Range<usize>) -> ArrayViewMut2<'_, T> {
        assert!(r.end <= self.rows && cols.end <= self.width);
        let shape = (r.len(), cols.len()).strides((self.width, 1));
        // SAFETY: inside the buffer (checked above); exclusive (caller contract).
        unsafe {
            ArrayViewMut2::from_shape_ptr(shape, self.ptr.add(r.start * self.width + cols.start))
        }
    }
}

/// One layer's buffers as the threads of a step see them.
#[derive(Clone, Copy, Debug)]
pub(super) struct LayerBuffers<T> {
    output: SharedBuffer<T>,
    delta: SharedBuffer<T>,
    grad_w: SharedBuffer<T>,
    /// The bias gradient, as one row.
    grad_b: SharedBuffer<T>,
}

/// One item of phase 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    /// The loss summed over the batch.
    Loss,
    /// Block `block` of `blocks` of `dW_layer`.
    Weights {
        layer: usize,
        block: usize,
        blocks: usize,
    },
    /// `db_layer`.
    Bias { layer: usize },
}

/// The forward and backward pass of [`Mlp::loss_and_gradients`] on `ws.threads` threads,
/// with the same result bit for bit (see the module documentation). Returns the mean loss.
pub(super) fn loss_and_gradients<T: Float>(
    mlp: &Mlp<T>,
    x: ArrayView2<T>,
    targets: TargetsView<T>,
    ws: &mut Workspace<T>,
    grads: &mut Gradients<T>,
) -> f64 {
    let rows = x.nrows();
    assert!(
        rows <= ws.capacity,
        "batch of {rows} rows exceeds workspace capacity"
    );
    assert_eq!(x.ncols(), mlp.layers[0].inputs(), "input width");
    ws.rows = rows;
    let parts = ws.threads.min(rows.div_ceil(ROW_ALIGN)).max(1);
    if ws.part_scratch.len() < parts {
        ws.part_scratch.resize_with(parts, GemmScratch::default);
    }
    ws.shared.clear(); // capacity: one entry per layer, reserved by `Workspace::new`
    for ((output, delta), grad) in ws
        .outputs
        .iter_mut()
        .zip(ws.deltas.iter_mut())
        .zip(grads.layers.iter_mut())
    {
        let bias = grad.bias.as_slice_mut().expect("contiguous bias gradient");
        ws.shared.push(LayerBuffers {
            output: SharedBuffer::of(output),
            delta: SharedBuffer::of(delta),
            grad_w: SharedBuffer::of(&mut grad.weight),
            grad_b: SharedBuffer {
                ptr: bias.as_mut_ptr(),
                rows: 1,
                width: bias.len(),
            },
        });
    }
    let step = Step {
        mlp,
        x,
        targets,
        rows,
        scale: 1.0 / rows as f64,
        layers: &ws.shared,
    };
    let mode = DenormalMode::current();
    let scratch = &mut ws.part_scratch[..parts];
    run_parts(scratch, &|p, scratch| {
        let _mode = mode.enter();
        step.rows_pass(part_rows(p, parts, rows), scratch);
    });
    let next = AtomicUsize::new(0);
    let loss = AtomicU64::new(0);
    let items = step.item_count();
    run_parts(scratch, &|_, scratch| {
        let _mode = mode.enter();
        step.reserve(scratch);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= items {
                break;
            }
            if let Some(sum) = step.run_item(step.item(i), scratch) {
                loss.store(sum.to_bits(), Ordering::Relaxed);
            }
        }
    });
    f64::from_bits(loss.into_inner()) * step.scale
}

/// Runs `work(part, scratch)` once per scratch, in parallel (a piece of one scratch per
/// task), the parts numbered from 0.
fn run_parts<T: Send, F: Fn(usize, &mut GemmScratch<T>) + Sync>(
    scratch: &mut [GemmScratch<T>],
    work: &F,
) {
    let parts = 0..scratch.len();
    join_pieces(parts.len(), Axis(0), (parts, scratch), &|(
        parts,
        scratch,
    )| {
        for (part, scratch) in parts.zip(scratch) {
            work(part, scratch);
        }
    });
}

/// What the threads of one step share.
struct Step<'a, 'x, 't, T> {
    mlp: &'a Mlp<T>,
    x: ArrayView2<'x, T>,
    targets: TargetsView<'t, T>,
    rows: usize,
    scale: f64,
    layers: &'a [LayerBuffers<T>],
}

// SAFETY: the buffers behind `layers` are accessed by the rules of `SharedBuffer`; the rest is
// shared read-only.
unsafe impl<T: Sync> Sync for Step<'_, '_, '_, T> {}

impl<T: Float> Step<'_, '_, '_, T> {
    /// Phase 1 for rows `r`: forward, loss gradient, backward deltas.
    fn rows_pass(&self, r: Range<usize>, scratch: &mut GemmScratch<T>) {
        let mlp = self.mlp;
        let last = mlp.layers.len() - 1;
        let bufs = self.layers;
        for (l, layer) in mlp.layers.iter().enumerate() {
            // SAFETY (here and below): in phase 1 rows `r` of every buffer belong to this
            // thread alone.
            let input = if l == 0 {
                self.x.slice(s![r.clone(), ..])
            } else {
                unsafe { bufs[l - 1].output.view(r.clone(), 0..layer.inputs()) }
            };
            let out = unsafe { bufs[l].output.view_mut(r.clone(), 0..layer.outputs()) };
            let activation = mlp.activation_after(l);
            layer.forward_activate_rows(input, out, activation, self.rows, scratch);
        }
        let width = mlp.layers[last].outputs();
        let logits = unsafe { bufs[last].output.view(r.clone(), 0..width) };
        let delta = unsafe { bufs[last].delta.view_mut(r.clone(), 0..width) };
        let targets = slice_targets(self.targets, r.start, r.end);
        mlp.loss.evaluate(logits, targets, Some(delta), self.scale);
        for l in (1..=last).rev() {
            let (out, inp) = mlp.layers[l].weight.dim();
            let delta = unsafe { bufs[l].delta.view(r.clone(), 0..out) };
            let mut below = unsafe { bufs[l - 1].delta.view_mut(r.clone(), 0..inp) };
            let weight = mlp.layers[l].weight.view();
            let plan = Plan::with_rows(self.rows, &delta, &weight, &below);
            gemm_part(
                plan,
                T::one(),
                delta,
                weight,
                T::zero(),
                below.view_mut(),
                scratch,
            );
            let a = unsafe { bufs[l - 1].output.view(r.clone(), 0..inp) };
            mlp.activations[l - 1].backward(
                a.as_slice().expect("contiguous rows"),
                below.as_slice_mut().expect("contiguous rows"),
            );
        }
    }

    /// `dW_l = δ_lᵀ · a_{l-1}` as (δᵀ, a, plan) over the whole batch.
    ///
    /// # Safety
    /// Phase 2 only (the per-row buffers are no longer written).
    unsafe fn weight_product(&self, l: usize) -> (ArrayView2<'_, T>, ArrayView2<'_, T>, Plan) {
        let (out, inp) = self.mlp.layers[l].weight.dim();
        // SAFETY: phase 2 reads these buffers only (caller contract).
        let delta_t = unsafe { self.layers[l].delta.view(0..self.rows, 0..out) }.reversed_axes();
        let input = if l == 0 {
            self.x
        } else {
            // SAFETY: as above.
            unsafe { self.layers[l - 1].output.view(0..self.rows, 0..inp) }
        };
        let plan = Plan::of(&delta_t, &input, &self.layers[l].grad_w.raw(out, inp));
        (delta_t, input, plan)
    }

    /// How many blocks `dW_l` is cut into: whole tiles along its wider side, about
    /// [`BLOCK_MACS`] multiply-adds each; one block unless the product is blocked.
    fn weight_blocks(&self, l: usize) -> usize {
        // SAFETY: only the plan is used.
        let (_, _, plan) = unsafe { self.weight_product(l) };
        if !plan.is_blocked() {
            return 1;
        }
        let (out, inp) = self.mlp.layers[l].weight.dim();
        let (len, unit) = split_side::<T>(out, inp);
        (out * inp * self.rows / BLOCK_MACS).clamp(1, len.div_ceil(unit))
    }

    fn item_count(&self) -> usize {
        1 + (0..self.mlp.layers.len())
            .map(|l| self.weight_blocks(l) + 1)
            .sum::<usize>()
    }

    /// Item `i`: the loss first, then each layer's weight blocks and bias.
    fn item(&self, i: usize) -> Item {
        if i == 0 {
            return Item::Loss;
        }
        let mut i = i - 1;
        for layer in 0..self.mlp.layers.len() {
            let blocks = self.weight_blocks(layer);
            if i < blocks {
                return Item::Weights {
                    layer,
                    block: i,
                    blocks,
                };
            }
            if i == blocks {
                return Item::Bias { layer };
            }
            i -= blocks + 1;
        }
        unreachable!("item index past the last item")
    }

    /// Grows `scratch` for any item of phase 2.
    fn reserve(&self, scratch: &mut GemmScratch<T>) {
        for layer in &self.mlp.layers {
            let (out, inp) = layer.weight.dim();
            scratch.reserve(out, inp, self.rows);
        }
    }

    /// Runs one item of phase 2; the loss item returns the summed loss.
    fn run_item(&self, item: Item, scratch: &mut GemmScratch<T>) -> Option<f64> {
        let bufs = self.layers;
        match item {
            Item::Loss => {
                let width = self.mlp.layers[bufs.len() - 1].outputs();
                // SAFETY: phase 2 only reads the per-row buffers.
                let logits = unsafe { bufs[bufs.len() - 1].output.view(0..self.rows, 0..width) };
                Some(
                    self.mlp
                        .loss
                        .evaluate(logits, self.targets, None, self.scale),
                )
            }
            Item::Bias { layer } => {
                let width = self.mlp.layers[layer].outputs();
                // SAFETY: phase 2 only reads the deltas; this item alone writes db_layer.
                let delta = unsafe { bufs[layer].delta.view(0..self.rows, 0..width) };
                let mut sums = unsafe { bufs[layer].grad_b.view_mut(0..1, 0..width) };
                sum_rows_into(delta, sums.as_slice_mut().expect("contiguous bias"));
                None
            }
            Item::Weights {
                layer,
                block,
                blocks,
            } => {
                // SAFETY: phase 2.
                let (delta_t, input, plan) = unsafe { self.weight_product(layer) };
                let (out, inp) = self.mlp.layers[layer].weight.dim();
                let (len, unit) = split_side::<T>(out, inp);
                let tiles = len.div_ceil(unit);
                let bound = |i: usize| (i * tiles / blocks * unit).min(len);
                let range = bound(block)..bound(block + 1);
                let grad = bufs[layer].grad_w;
                // SAFETY: this item alone writes this block of dW_layer.
                let (a, b, c) = if inp >= out {
                    let c = unsafe { grad.view_mut(0..out, range.clone()) };
                    (delta_t, input.slice_move(s![.., range]), c)
                } else {
                    let c = unsafe { grad.view_mut(range.clone(), 0..inp) };
                    (delta_t.slice_move(s![range, ..]), input, c)
                };
                gemm_part(plan, T::one(), a, b, T::zero(), c, scratch);
                None
            }
        }
    }
}

/// The side of an `out × in` gradient its blocks cut (the wider: columns when `in ≥ out`),
/// as (its length, the tile width along it).
fn split_side<T: GemmScalar>(out: usize, inp: usize) -> (usize, usize) {
    if inp >= out {
        (inp, T::NR)
    } else {
        (out, T::MR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_rows_cover_the_batch_in_aligned_ranges() {
        for rows in [16, 17, 128, 255, 256, 300, 2048] {
            for parts in 1..=5 {
                let mut next = 0;
                for p in 0..parts {
                    let r = part_rows(p, parts, rows);
                    assert_eq!(r.start, next, "rows {rows} parts {parts}");
                    assert_eq!(r.start % ROW_ALIGN, 0);
                    next = r.end;
                }
                assert_eq!(next, rows);
            }
        }
        assert_eq!(part_rows(0, 2, 128), 0..64);
        assert_eq!(part_rows(1, 2, 300), 152..300);
    }
}
