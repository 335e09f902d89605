//! A training step allocates nothing once its buffers exist: a counting global allocator
//! watches SGD steps after the first, for full-batch and mini-batch training, plain and with
//! momentum, in f32 and f64, with small and large layers, on one thread and (data parallel)
//! on the two threads of a rayon pool; and the layer engine's steps (LayerNorm, BatchNorm,
//! residual blocks, GELU and SiLU, with Adam, AdamW, RMSprop and SGD with Nesterov momentum),
//! on one thread and, at W6's and W7's kind of network, on two.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use initlab::nn::{
    Activation, Float, Gradients, Init, Loss, Mlp, Sgd, Split, TargetsView, TrainConfig, Workspace,
    train,
};
use ndarray::Array2;

struct Counting;

thread_local! {
    // Per thread: tests run in parallel in one process, each counts its own thread.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    // Set on the threads of the pools the two-thread tests make (and on no other thread).
    static POOL_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Allocations made on pool threads while `POOL_COUNTING` is on (one two-thread test at a
/// time holds `POOL_LOCK`).
static POOL_COUNTING: AtomicBool = AtomicBool::new(false);
static POOL_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static POOL_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn note_allocation() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    }
    if POOL_COUNTING.load(Ordering::Relaxed) && POOL_THREAD.try_with(Cell::get).unwrap_or(false) {
        POOL_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// A pool of two threads whose allocations `count_in_pool` counts.
fn counted_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .start_handler(|_| POOL_THREAD.with(|p| p.set(true)))
        .build()
        .unwrap()
}

/// Lets every thread of `pool` run and go idle once: a rayon worker's first attempt to steal
/// work registers it with crossbeam's epoch collector, a one-time allocation per thread that
/// would otherwise land in whichever step first finds that thread idle.
fn settle(pool: &rayon::ThreadPool) {
    pool.broadcast(|_| ());
    std::thread::sleep(std::time::Duration::from_millis(50));
}

/// Allocations made by `f` on the pool's threads (call it inside `pool.install`).
fn count_in_pool(f: impl FnOnce()) -> usize {
    POOL_ALLOCATIONS.store(0, Ordering::Relaxed);
    POOL_COUNTING.store(true, Ordering::Relaxed);
    f();
    POOL_COUNTING.store(false, Ordering::Relaxed);
    POOL_ALLOCATIONS.load(Ordering::Relaxed)
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn reset() {
    ALLOCATIONS.with(|a| a.set(0));
}

fn set_counting(on: bool) {
    COUNTING.with(|c| c.set(on));
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f`.
fn count(f: impl FnOnce()) -> usize {
    reset();
    set_counting(true);
    f();
    set_counting(false);
    allocations()
}

fn data<T: Float>(rows: usize, inputs: usize) -> (Array2<T>, Vec<usize>) {
    let x = Array2::from_shape_fn((rows, inputs), |(i, j)| {
        T::of(((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5)
    });
    let y = (0..rows).map(|i| i % 3).collect();
    (x, y)
}

fn steps_allocate_nothing<T: Float>(
    sizes: &[usize],
    activation: Activation,
    rows: usize,
    momentum: f64,
) {
    let (x, y) = data::<T>(rows, sizes[0]);
    let hidden = vec![activation; sizes.len() - 2];
    let mut mlp = Mlp::<T>::new(sizes, &hidden, Loss::SoftmaxCrossEntropy);
    mlp.initialize(&"he-normal".parse::<Init>().unwrap(), None, 1);
    let mut ws = Workspace::new(&mlp, rows);
    let mut grads = Gradients::zeros_like(&mlp);
    let mut sgd = Sgd::with(0.01, momentum, 1e-4);
    let mut step = |mlp: &mut Mlp<T>| {
        let loss = mlp.loss_and_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut grads);
        sgd.step(mlp, &grads);
        loss
    };
    step(&mut mlp); // the first step may size internal buffers
    let n = count(|| {
        for _ in 0..20 {
            step(&mut mlp);
        }
    });
    assert_eq!(
        n,
        0,
        "{} {sizes:?} {activation} momentum {momentum}: {n} allocations in 20 steps",
        T::NAME
    );
}

#[test]
fn full_batch_steps_allocate_nothing() {
    steps_allocate_nothing::<f32>(&[2, 4, 3], Activation::Tanh, 4, 0.0);
    steps_allocate_nothing::<f32>(&[2, 100, 3], Activation::Relu, 300, 0.9);
    steps_allocate_nothing::<f32>(&[64, 128, 128, 10], Activation::Sigmoid, 128, 0.0);
    steps_allocate_nothing::<f64>(&[5, 16, 16, 3], Activation::Selu, 32, 0.5);
}

#[test]
fn minibatch_epochs_between_logs_allocate_nothing() {
    // 30 epochs of mini-batches (the last batch of each epoch is smaller), logged at 0, 10,
    // 20, 30. The first epoch sizes the training buffers; count the 10 epochs from the
    // checkpoint at 10 to the one at 20: 80 steps, shuffles and one evaluation.
    let (x, y) = data::<f32>(250, 8);
    let mut mlp = Mlp::<f32>::new(
        &[8, 32, 32, 3],
        &[Activation::Tanh; 2],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 3);
    let split = Split {
        x: x.view(),
        targets: TargetsView::Classes(&y),
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let mut sgd = Sgd::with(0.05, 0.9, 1e-4);
    let config = TrainConfig {
        epochs: 30,
        batch_size: 32,
        log_every: 10,
        threads: 1,
    };
    let mut inside = None;
    let history = train(
        &mut mlp,
        &mut sgd,
        split,
        None,
        &config,
        &mut rng,
        None,
        |cp| {
            match cp.record.epoch {
                10 => {
                    reset();
                    set_counting(true);
                }
                20 => {
                    set_counting(false);
                    inside = Some(allocations());
                }
                _ => {}
            }
            ControlFlow::Continue(())
        },
    );
    assert_eq!(history.steps, 30 * 8);
    assert_eq!(
        inside,
        Some(0),
        "allocations in 10 epochs of mini-batch training"
    );
}

/// Allocations on the threads of a two-thread pool during 20 calls of `step` (a training
/// step that returns its loss), after two calls that size the buffers of both threads.
fn pool_step_allocations(mut step: impl FnMut() -> f64 + Send) -> usize {
    let pool = counted_pool();
    pool.install(|| {
        step(); // the first step sizes the buffers of both threads
        settle(&pool);
        step();
        count_in_pool(|| {
            for _ in 0..20 {
                assert!(step().is_finite(), "a finite loss");
            }
        })
    })
}

/// Steps of the data-parallel pass (threads inside the step) allocate on no thread.
fn two_thread_steps_allocate_nothing<T: Float>(
    sizes: &[usize],
    activation: Activation,
    rows: usize,
    momentum: f64,
) {
    let _one_at_a_time = POOL_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data::<T>(rows, sizes[0]);
    let hidden = vec![activation; sizes.len() - 2];
    let mut mlp = Mlp::<T>::new(sizes, &hidden, Loss::SoftmaxCrossEntropy);
    mlp.initialize(&"he-normal".parse::<Init>().unwrap(), None, 1);
    let mut ws = Workspace::new(&mlp, rows);
    ws.threads = 2;
    let mut grads = Gradients::zeros_like(&mlp);
    let mut sgd = Sgd::with(0.01, momentum, 1e-4);
    let n = pool_step_allocations(|| {
        let loss = mlp.loss_and_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut grads);
        sgd.step_threaded(&mut mlp, &grads, 2);
        loss
    });
    assert_eq!(
        n,
        0,
        "{} {sizes:?} {activation} on 2 threads: {n} allocations in 20 steps",
        T::NAME
    );
}

#[test]
fn two_thread_steps_allocate_nothing_on_any_thread() {
    two_thread_steps_allocate_nothing::<f32>(&[784, 256, 256, 10], Activation::Relu, 128, 0.0);
    two_thread_steps_allocate_nothing::<f32>(&[256, 256, 256, 256, 10], Activation::Tanh, 256, 0.9);
    two_thread_steps_allocate_nothing::<f32>(&[2, 100, 100, 3], Activation::Sigmoid, 300, 0.0);
    two_thread_steps_allocate_nothing::<f64>(&[5, 64, 64, 3], Activation::Selu, 200, 0.5);
}

#[test]
fn two_thread_training_allocates_nothing_between_logs() {
    // As `minibatch_epochs_between_logs_allocate_nothing`, with `threads: 2` inside a pool
    // of two: mini-batch steps (the last of each epoch shorter) and one whole-set evaluation.
    let _one_at_a_time = POOL_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data::<f32>(1000, 32);
    let mut mlp = Mlp::<f32>::new(
        &[32, 128, 128, 3],
        &[Activation::Tanh; 2],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 3);
    let split = Split {
        x: x.view(),
        targets: TargetsView::Classes(&y),
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let mut sgd = Sgd::with(0.05, 0.9, 1e-4);
    let config = TrainConfig {
        epochs: 6,
        batch_size: 96,
        log_every: 2,
        threads: 2,
    };
    let mut inside = None;
    let pool = counted_pool();
    let history = pool.install(|| {
        train(
            &mut mlp,
            &mut sgd,
            split,
            None,
            &config,
            &mut rng,
            None,
            |cp| {
                match cp.record.epoch {
                    2 => {
                        POOL_ALLOCATIONS.store(0, Ordering::Relaxed);
                        POOL_COUNTING.store(true, Ordering::Relaxed);
                    }
                    4 => {
                        POOL_COUNTING.store(false, Ordering::Relaxed);
                        inside = Some(POOL_ALLOCATIONS.load(Ordering::Relaxed));
                    }
                    _ => {}
                }
                ControlFlow::Continue(())
            },
        )
    });
    assert_eq!(history.steps, 6 * 11);
    assert_eq!(
        inside,
        Some(0),
        "allocations in 2 epochs of two-thread training"
    );
}

/// A network of every layer kind: LayerNorm, BatchNorm, a residual block with a learnable α
/// and a projection, GELU and SiLU.
fn layered<T: Float>(inputs: usize) -> initlab::nn::Network<T> {
    use initlab::nn::dense::Dense;
    use initlab::nn::{Alpha, BatchNorm, Layer, LayerNorm, Network, Residual};
    let layers = vec![
        Layer::Dense(Dense::zeros(inputs, 16)),
        Layer::BatchNorm(BatchNorm::new(16)),
        Layer::Activation(Activation::Gelu),
        Layer::Residual(Residual {
            body: vec![
                Layer::LayerNorm(LayerNorm::new(16)),
                Layer::Dense(Dense::zeros(16, 12)),
                Layer::Activation(Activation::Silu),
                Layer::Dense(Dense::zeros(12, 12)),
            ],
            projection: Some(Dense::zeros(16, 12)),
            alpha: Alpha::Learnable(ndarray::Array1::from_elem(1, T::of(0.5))),
        }),
        Layer::Activation(Activation::Tanh),
        Layer::Dense(Dense::zeros(12, 3)),
    ];
    let mut network = Network::new(inputs, layers, Loss::SoftmaxCrossEntropy).unwrap();
    network.initialize(&"he-normal".parse::<Init>().unwrap(), None, 1);
    network
}

/// The layer engine's step (forward, backward, running statistics, Adam, AdamW, RMSprop,
/// SGD with Nesterov momentum) allocates nothing after the first, on one thread.
#[test]
fn layer_engine_steps_allocate_nothing() {
    use initlab::nn::{Adam, NetworkWorkspace, Optimizer, ParamList, RmsProp};
    let mut nesterov = Sgd::with(0.01, 0.9, 1e-4);
    nesterov.nesterov = true;
    for optimizer in [
        Optimizer::Adam(Adam::new(1e-3)),
        Optimizer::Adam(Adam::adamw(1e-3)),
        Optimizer::RmsProp(RmsProp::new(1e-3)),
        Optimizer::Sgd(nesterov),
    ] {
        let (x, y) = data::<f32>(40, 5);
        let mut network = layered::<f32>(5);
        let mut ws = NetworkWorkspace::new(&network, 40);
        let mut grads = ParamList::zeros_like(&network);
        let mut optimizer = optimizer;
        optimizer.prepare(&network);
        let mut step = |network: &mut initlab::nn::Network<f32>| {
            let loss =
                network.loss_and_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut grads);
            network.update_running_statistics(&ws);
            optimizer.step(network, &grads, 1);
            loss
        };
        step(&mut network);
        let n = count(|| {
            for _ in 0..20 {
                assert!(step(&mut network).is_finite());
            }
        });
        assert_eq!(n, 0, "{optimizer:?}: 20 steps allocated {n} times");
    }
}

/// Mini-batch training of the layer engine through `train` with Adam allocates nothing
/// between logged epochs (counted from the checkpoint at epoch 6 to the one at 12: 72 steps,
/// shuffles and one evaluation in both modes).
#[test]
fn layer_engine_minibatch_epochs_allocate_nothing() {
    let (x, y) = data::<f64>(90, 5);
    let mut network = layered::<f64>(5);
    let mut adam = initlab::nn::Adam::new(1e-3);
    let config = TrainConfig {
        epochs: 18,
        batch_size: 8,
        log_every: 6,
        threads: 1,
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
    let split = Split {
        x: x.view(),
        targets: TargetsView::Classes(&y),
    };
    let mut inside = None;
    let history = train(
        &mut network,
        &mut adam,
        split,
        None,
        &config,
        &mut rng,
        None,
        |cp| {
            match cp.record.epoch {
                6 => {
                    reset();
                    set_counting(true);
                }
                12 => {
                    set_counting(false);
                    inside = Some(allocations());
                }
                _ => {}
            }
            ControlFlow::Continue(())
        },
    );
    assert_eq!(history.steps, 18 * 12);
    assert_eq!(
        inside,
        Some(0),
        "allocations in 6 epochs of mini-batch training"
    );
}

/// The layer engine's step on the two threads of a pool, at sizes where the matrix products,
/// the optimizer's update (over 65,536 parameter values) and the element-wise layers (at
/// least twice `MIN_LIGHT_PIECE_VALUES` values: activations, LayerNorm, BatchNorm, the
/// residual adds, in row and column pieces) run on both threads, for the networks of W6
/// (pre-LayerNorm residual blocks with GELU, Adam) and W7 (BatchNorm before ReLU, SGD with
/// momentum), narrower, built from the `[network]` TOML a user writes: nothing allocates on
/// any thread after the first step.
#[test]
fn layer_engine_two_thread_steps_allocate_nothing() {
    use initlab::experiment::build::network_layers;
    use initlab::experiment::spec::NetworkSpec;
    use initlab::nn::optim::PAR_BLOCK;
    use initlab::nn::pieces::MIN_LIGHT_PIECE_VALUES;
    use initlab::nn::{Adam, Model, Optimizer, ParamSet};
    let block = r#"{ residual = ["layernorm", { dense = 128 }, "activation", { dense = 128 }] }"#;
    let w6 = format!(
        "activations = [\"gelu\"]\nloss = \"softmax-cross-entropy\"\n\
         layers = [{{ dense = 128 }}, {block}, {block}]\n"
    );
    let w7 = "hidden = [256, 256]\nactivations = [\"relu\"]\nloss = \"softmax-cross-entropy\"\n\
              norm = \"batchnorm\"\n";
    let cases = [
        (
            "W6's kind",
            w6.as_str(),
            (2048, 128),
            Optimizer::Adam(Adam::new(1e-3)),
        ),
        (
            "W7's kind",
            w7,
            (1024, 256),
            Optimizer::Sgd(Sgd::with(0.01, 0.9, 0.0)),
        ),
    ];
    for (name, toml_text, (rows, width), mut optimizer) in cases {
        let _one_at_a_time = POOL_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let spec: NetworkSpec = toml::from_str(toml_text).unwrap();
        let mut network =
            network_layers::<f32>(&spec.shape(), 64, 3, spec.activations[0], spec.loss).unwrap();
        network.initialize(&"he-normal".parse::<Init>().unwrap(), None, 1);
        assert!(
            network.value_count() >= 2 * PAR_BLOCK,
            "{name}: too small for the threaded update"
        );
        assert!(
            rows * width >= 2 * MIN_LIGHT_PIECE_VALUES,
            "{name}: too small for the layers' pieces"
        );
        let (x, y) = data::<f32>(rows, 64);
        let mut ws = network.workspace(rows, 2);
        let mut grads = network.zero_gradients();
        optimizer.prepare(&network);
        let n = pool_step_allocations(|| {
            let loss =
                network.batch_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut grads);
            network.after_step(&ws);
            optimizer.step(&mut network, &grads, 2);
            loss
        });
        assert_eq!(n, 0, "{name} on 2 threads: {n} allocations in 20 steps");
    }
}
