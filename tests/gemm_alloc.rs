//! `gemm` allocates nothing after the first call for a shape (counting global allocator).
//!
//! Everything runs in a single `#[test]` so no other test allocates concurrently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use initlab::nn::gemm::{GemmScratch, gemm};
use ndarray::Array2;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The workload shapes as (m, k, n, a transposed, b transposed).
const SHAPES: &[(usize, usize, usize, bool, bool)] = &[
    (4, 2, 4, false, true),
    (300, 100, 100, false, true),
    (100, 300, 100, true, false),
    (128, 784, 256, false, true),
    (256, 128, 784, true, false),
    (256, 256, 256, false, true),
    (128, 256, 10, false, true),
    (10, 128, 256, true, false),
    (300, 2, 100, false, true),
    (300, 100, 3, false, true),
    (100, 300, 2, true, false),
    (3, 300, 100, true, false),
];

struct Case {
    a: Array2<f32>,
    b: Array2<f32>,
    c: Array2<f32>,
    ta: bool,
    tb: bool,
}

fn cases() -> Vec<Case> {
    SHAPES
        .iter()
        .map(|&(m, k, n, ta, tb)| Case {
            a: if ta {
                Array2::from_elem((k, m), 0.5)
            } else {
                Array2::from_elem((m, k), 0.5)
            },
            b: if tb {
                Array2::from_elem((n, k), 0.25)
            } else {
                Array2::from_elem((k, n), 0.25)
            },
            c: Array2::zeros((m, n)),
            ta,
            tb,
        })
        .collect()
}

/// Runs every case once with one scratch per case; returns the allocations counted.
fn run(cases: &mut [Case], scratches: &mut [GemmScratch<f32>], threads: usize) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    for (cs, sc) in cases.iter_mut().zip(scratches.iter_mut()) {
        let av = if cs.ta { cs.a.t() } else { cs.a.view() };
        let bv = if cs.tb { cs.b.t() } else { cs.b.view() };
        gemm(1.0, av, bv, 0.0, cs.c.view_mut(), sc, threads);
    }
    ALLOCS.load(Ordering::SeqCst) - before
}

#[test]
fn no_allocation_after_warmup() {
    let mut cs = cases();
    let mut scratch: Vec<GemmScratch<f32>> =
        (0..cs.len()).map(|_| GemmScratch::default()).collect();

    // threads = 1: the first pass may grow the scratch, later passes must not allocate.
    let first = run(&mut cs, &mut scratch, 1);
    assert!(first > 0, "the allocation counter should see the warm-up");
    for _ in 0..20 {
        assert_eq!(
            run(&mut cs, &mut scratch, 1),
            0,
            "threads=1 allocated after warm-up"
        );
    }

    // One scratch shared by all shapes (it only grows) is also allocation-free once warm.
    let mut shared = GemmScratch::default();
    for c in cs.iter_mut() {
        let av = if c.ta { c.a.t() } else { c.a.view() };
        let bv = if c.tb { c.b.t() } else { c.b.view() };
        gemm(1.0, av, bv, 0.0, c.c.view_mut(), &mut shared, 1);
    }
    let before = ALLOCS.load(Ordering::SeqCst);
    for c in cs.iter_mut() {
        let av = if c.ta { c.a.t() } else { c.a.view() };
        let bv = if c.tb { c.b.t() } else { c.b.view() };
        gemm(1.0, av, bv, 0.0, c.c.view_mut(), &mut shared, 1);
    }
    assert_eq!(
        ALLOCS.load(Ordering::SeqCst) - before,
        0,
        "shared scratch allocated"
    );

    // threads = 2, called from inside a rayon pool worker: rayon::join only pushes onto the
    // worker's own deque, so this is allocation-free too.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    // Let both workers run and go idle once first: a rayon worker's first attempt to steal
    // registers it with crossbeam's epoch collector, a one-time allocation that would
    // otherwise land in whichever product first finds that worker idle (seen once, on a
    // loaded machine, as a failure of the loop below).
    pool.broadcast(|_| ());
    std::thread::sleep(std::time::Duration::from_millis(50));
    pool.install(|| {
        run(&mut cs, &mut scratch, 2);
        run(&mut cs, &mut scratch, 2);
        for _ in 0..100 {
            assert_eq!(
                run(&mut cs, &mut scratch, 2),
                0,
                "threads=2 (in pool) allocated"
            );
        }
    });

    // threads = 2 from a thread outside any rayon pool: rayon injects the job into its global
    // queue, whose block list allocates about once per 63 injections. Report it.
    run(&mut cs, &mut scratch, 2);
    let mut outside = 0;
    let rounds = 100;
    for _ in 0..rounds {
        outside += run(&mut cs, &mut scratch, 2);
    }
    eprintln!(
        "threads=2 outside a rayon pool: {outside} allocations in {rounds} rounds of {} products",
        cs.len()
    );
}
