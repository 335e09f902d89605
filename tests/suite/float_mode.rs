//! The floating-point mode (`initlab::nn::float::DenormalMode`): subnormal numbers are flushed
//! inside the scope and the caller's mode comes back after it, also after a panic; and the
//! entry points (`train`, `inspect`, the threaded matrix product) compute the same numbers
//! whichever thread, in whichever mode, calls them.

use std::hint::black_box;
use std::ops::ControlFlow;

use initlab::inspect::{InspectConfig, inspect};
use initlab::nn::float::{DenormalMode, with_flushed_denormals};
use initlab::nn::gemm::{GemmScratch, gemm};
use initlab::nn::{Activation, Loss, Mlp, Sgd, Split, TargetsView, TrainConfig, train};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `f32::MIN_POSITIVE / 4` computed at run time: a subnormal unless the mode flushes it.
fn quarter_of_smallest_normal() -> f32 {
    black_box(f32::MIN_POSITIVE) / black_box(4.0)
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn flushes_inside_and_restores_after() {
    assert_eq!(
        DenormalMode::current(),
        DenormalMode::Keep,
        "threads start unflushed"
    );
    let outside = quarter_of_smallest_normal();
    assert!(outside.is_subnormal());
    let (inside, read_as, mode) = with_flushed_denormals(|| {
        (
            quarter_of_smallest_normal(),
            // DAZ (aarch64: FZ): a subnormal input reads as zero.
            black_box(outside) * black_box(1.0_f32),
            DenormalMode::current(),
        )
    });
    assert_eq!(inside.to_bits(), 0);
    assert_eq!(read_as.to_bits(), 0);
    assert_eq!(mode, DenormalMode::Flush);
    let inside_f64 = with_flushed_denormals(|| black_box(f64::MIN_POSITIVE) / black_box(4.0));
    assert_eq!(inside_f64.to_bits(), 0);
    assert_eq!(DenormalMode::current(), DenormalMode::Keep);
    assert!(quarter_of_smallest_normal().is_subnormal());
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn restores_after_a_panic_inside() {
    let caught = std::panic::catch_unwind(|| {
        with_flushed_denormals(|| {
            assert_eq!(DenormalMode::current(), DenormalMode::Flush);
            panic!("inside the scope");
        })
    });
    assert!(caught.is_err());
    assert_eq!(DenormalMode::current(), DenormalMode::Keep);
    assert!(quarter_of_smallest_normal().is_subnormal());
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn scopes_nest() {
    let flush = DenormalMode::Flush.enter();
    {
        let _keep = DenormalMode::Keep.enter();
        assert_eq!(DenormalMode::current(), DenormalMode::Keep);
        assert!(quarter_of_smallest_normal().is_subnormal());
    }
    assert_eq!(DenormalMode::current(), DenormalMode::Flush);
    assert_eq!(quarter_of_smallest_normal().to_bits(), 0);
    drop(flush);
    assert_eq!(DenormalMode::current(), DenormalMode::Keep);
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[test]
fn other_architectures_keep_subnormals() {
    let inside = with_flushed_denormals(quarter_of_smallest_normal);
    assert!(inside.is_subnormal());
    assert_eq!(DenormalMode::current(), DenormalMode::Keep);
}

/// Runs `work` on the calling thread in each mode, and on a rayon pool worker.
fn everywhere<R>(work: impl Fn() -> R + Sync + Send) -> [R; 3]
where
    R: Send,
{
    let keep = {
        let _mode = DenormalMode::Keep.enter();
        work()
    };
    let flush = with_flushed_denormals(&work);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    let on_pool = pool.install(&work);
    [keep, flush, on_pool]
}

#[test]
fn inspect_is_the_same_on_every_thread_and_mode() {
    // A tiny start (std 0.01) shrinks the signal ×0.04 per layer at width 16: it passes
    // through the subnormal range (below 1.2e-38) around layers 28-31.
    let config = InspectConfig::new(
        vec!["tiny".parse().expect("tiny is an init")],
        Activation::Tanh,
        40,
        16,
    );
    let [keep, flush, on_pool] = everywhere(|| inspect::<f32>(&config));
    assert_eq!(keep, flush);
    assert_eq!(keep, on_pool);
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    for row in &keep {
        // Flushed, every activation is 0 or at least the smallest normal number.
        assert!(
            row.stats.activation_std == 0.0 || row.stats.activation_std > 1e-39,
            "layer {}: std {} (a subnormal value was kept)",
            row.stats.layer,
            row.stats.activation_std
        );
    }
}

/// Trains a small tanh network from a tiny start on inputs of order 1e-35, so that the
/// first layer's weight gradients (inputs × back-propagated deltas of order 1e-5) are
/// subnormal unless flushed; returns those gradients at every checkpoint, and the final
/// weights.
fn train_tiny() -> (Vec<Array2<f32>>, Vec<Array2<f32>>) {
    let mut mlp = Mlp::<f32>::new(
        &[4, 16, 16, 16, 2],
        &[Activation::Tanh; 3],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(&"tiny".parse().expect("tiny is an init"), None, 7);
    let x = Array2::from_shape_fn((32, 4), |(i, j)| ((i * 4 + j) as f32 - 60.0) * 1e-36);
    let y: Vec<usize> = (0..32).map(|i| i % 2).collect();
    let config = TrainConfig {
        epochs: 20,
        batch_size: 8,
        log_every: 5,
        threads: 1,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut gradients = Vec::new();
    train(
        &mut mlp,
        &mut Sgd::new(0.5),
        Split {
            x: x.view(),
            targets: TargetsView::Classes(&y),
        },
        None,
        &config,
        &mut rng,
        None,
        |checkpoint| {
            gradients.push(checkpoint.gradients.layers[0].weight.clone());
            ControlFlow::Continue(())
        },
    );
    let weights = mlp.layers.iter().map(|l| l.weight.clone()).collect();
    (gradients, weights)
}

#[test]
fn training_is_the_same_on_every_thread_and_mode() {
    let [keep, flush, on_pool] = everywhere(train_tiny);
    assert_eq!(keep, flush);
    assert_eq!(keep, on_pool);
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    for g in keep.0.iter().flatten() {
        assert!(
            *g == 0.0 || g.abs() >= f32::MIN_POSITIVE,
            "a subnormal gradient was kept: {g:e}"
        );
    }
}

#[test]
fn threaded_gemm_computes_in_the_callers_mode() {
    // Products of 1e-20 and 1e-20 are subnormal in f32; big enough for the threaded path.
    // Called from a thread outside any rayon pool, the blocks run on the global pool's
    // workers, whose own mode is not the caller's.
    let a = Array2::from_shape_fn((128, 64), |(i, p)| 1e-20 * (1.0 + ((i + p) % 7) as f32));
    let b = Array2::from_shape_fn((64, 128), |(p, j)| 1e-20 * (1.0 + ((p * j) % 5) as f32));
    let product = |threads: usize| {
        let mut c = Array2::<f32>::zeros((128, 128));
        gemm(
            1.0,
            a.view(),
            b.view(),
            0.0,
            c.view_mut(),
            &mut GemmScratch::new(),
            threads,
        );
        c
    };
    for mode in [DenormalMode::Keep, DenormalMode::Flush] {
        let _mode = mode.enter();
        let one = product(1);
        let two = product(2);
        assert_eq!(one, two, "{mode:?}");
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(
            one.iter().all(|&v| v == 0.0),
            mode == DenormalMode::Flush,
            "{mode:?}"
        );
    }
}
