//! The standard workloads W1–W4 of the peer comparison (docs/benchmarks.md): one SGD step
//! each, f32, plain SGD, buffers prepared once (as in training).
//!
//! `cargo bench --bench workloads` — figures to compare with the peers' in docs/benchmarks.md:
//! W1 and W2 in µs/step, W3 in samples/s (criterion's throughput), W4 in ms/step.
//! W3 and W4 run on 1 and 2 threads (the data-parallel step: rows split among the threads,
//! sums over rows split by output element), each step inside a rayon pool of that many threads.
//! `benches/peers.sh` runs these beside JAX in one sitting and prints the ratios.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use initlab::data::generators;
use initlab::nn::{Activation, Gradients, Init, Loss, Mlp, Sgd, TargetsView, Workspace};
use ndarray::{Array2, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A network with its buffers, stepping over batches of (x, labels).
struct Bench {
    mlp: Mlp<f32>,
    ws: Workspace<f32>,
    grads: Gradients<f32>,
    sgd: Sgd<f32>,
}

impl Bench {
    fn new(
        sizes: &[usize],
        activation: Activation,
        loss: Loss,
        init: &str,
        lr: f64,
        batch: usize,
        threads: usize,
    ) -> Self {
        let hidden = vec![activation; sizes.len() - 2];
        let mut mlp = Mlp::<f32>::new(sizes, &hidden, loss);
        mlp.initialize(&init.parse::<Init>().unwrap(), None, 0);
        let mut ws = Workspace::new(&mlp, batch);
        ws.threads = threads;
        let grads = Gradients::zeros_like(&mlp);
        Bench {
            mlp,
            ws,
            grads,
            sgd: Sgd::new(lr),
        }
    }

    fn step(&mut self, x: ndarray::ArrayView2<f32>, y: &[usize]) -> f64 {
        let loss =
            self.mlp
                .loss_and_gradients(x, TargetsView::Classes(y), &mut self.ws, &mut self.grads);
        self.sgd
            .step_threaded(&mut self.mlp, &self.grads, self.ws.threads);
        loss
    }
}

/// A rayon pool of `threads` workers: the steps run inside it (`ThreadPool::install`), as in
/// the experiment runner, so the step's second thread is a pool worker and the calling thread
/// runs a share itself instead of waiting (see `initlab::nn::Mlp::loss_and_gradients`).
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn w1_xor(c: &mut Criterion) {
    let x = ndarray::array![[0.0_f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = [0usize, 1, 1, 0];
    let mut b = Bench::new(
        &[2, 4, 1],
        Activation::Tanh,
        Loss::BinaryCrossEntropy,
        "xavier-uniform",
        0.5,
        4,
        1,
    );
    c.bench_function("W1 xor 2-4-1 step", |bench| {
        bench.iter(|| b.step(x.view(), &y))
    });
}

fn w2_spiral(c: &mut Criterion) {
    let ds = generators::spiral(100, 3, &mut ChaCha8Rng::seed_from_u64(0));
    let x = ds.features.mapv(|v| v as f32);
    let y = match &ds.target {
        initlab::data::Target::Classes { labels, .. } => labels.clone(),
        _ => unreachable!(),
    };
    let mut b = Bench::new(
        &[2, 100, 3],
        Activation::Relu,
        Loss::SoftmaxCrossEntropy,
        "he-normal",
        1.0,
        300,
        1,
    );
    c.bench_function("W2 spiral 2-100-3 step", |bench| {
        bench.iter(|| b.step(x.view(), &y))
    });
}

/// Times `b`'s steps over consecutive batches of `batch` rows of (x, y), wrapping around at
/// the end, inside a rayon pool of `threads` threads (the threads of the step).
fn bench_batches(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    b: &mut Bench,
    x: &Array2<f32>,
    y: &[usize],
    batch: usize,
    threads: usize,
) {
    let rows = x.nrows();
    let mut start = 0;
    let pool = pool(threads);
    group.bench_function(format!("{threads} thread(s)"), |bench| {
        pool.install(|| {
            bench.iter(|| {
                if start + batch > rows {
                    start = 0;
                }
                let end = start + batch;
                let loss = b.step(x.slice(s![start..end, ..]), &y[start..end]);
                start = end;
                loss
            })
        })
    });
}

fn w3_mnist_shape(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows = 60_000;
    let x = Array2::from_shape_simple_fn((rows, 784), || rng.random::<f32>());
    let y: Vec<usize> = (0..rows).map(|_| rng.random_range(0..10)).collect();
    let mut group = c.benchmark_group("W3 784-256-256-10 batch 128");
    group.throughput(Throughput::Elements(128));
    for threads in [1, 2] {
        let mut b = Bench::new(
            &[784, 256, 256, 10],
            Activation::Relu,
            Loss::SoftmaxCrossEntropy,
            "he-normal",
            0.1,
            128,
            threads,
        );
        bench_batches(&mut group, &mut b, &x, &y, 128, threads);
    }
    group.finish();
}

fn w4_deep(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let rows = 256 * 20;
    let x =
        Array2::from_shape_simple_fn((rows, 256), || rng.sample::<f64, _>(StandardNormal) as f32);
    let y: Vec<usize> = (0..rows).map(|_| rng.random_range(0..10)).collect();
    let mut sizes = vec![256; 21]; // input + 20 hidden layers of 256
    sizes.push(10);
    let mut group = c.benchmark_group("W4 20 hidden tanh layers of 256, batch 256");
    group.sample_size(20);
    for threads in [1, 2] {
        let mut b = Bench::new(
            &sizes,
            Activation::Tanh,
            Loss::SoftmaxCrossEntropy,
            "xavier-normal",
            0.01,
            256,
            threads,
        );
        bench_batches(&mut group, &mut b, &x, &y, 256, threads);
    }
    group.finish();
}

criterion_group!(benches, w1_xor, w2_spiral, w3_mnist_shape, w4_deep);
criterion_main!(benches);
