//! The standard workloads of the peer comparison (docs/benchmarks.md): one training step
//! each, f32, buffers prepared once (as in training).
//!
//! `cargo bench --bench workloads` — figures to compare with the peers' in docs/benchmarks.md:
//! W1 and W2 in µs/step, W3 and W7 in samples/s (criterion's throughput), W4 and W6 in
//! ms/step. W1–W4 are plain SGD on the fused fast path ([`Mlp`]); W6 (a pre-LayerNorm residual
//! MLP with GELU and Adam) and W7 (W3's network with BatchNorm, SGD with momentum) run on the
//! layer engine ([`Network`]), built from the `[network]` TOML a user would write. W3, W4, W6
//! and W7 run on 1 and 2 threads, each step inside a rayon pool of that many threads.
//! `benches/peers.sh` runs these beside JAX and PyTorch in one sitting and prints the ratios.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use initlab::data::generators;
use initlab::experiment::build::network_layers;
use initlab::experiment::spec::NetworkSpec;
use initlab::nn::train::Model;
use initlab::nn::{Activation, Adam, Init, Loss, Mlp, Network, Sgd, Step, TargetsView};
use ndarray::{Array2, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A model with its buffers and optimizer, stepping over batches of (x, labels) as
/// `initlab::nn::train` does: gradients, running statistics, optimizer step.
struct Bench<M: Model<f32>, O> {
    model: M,
    ws: M::Workspace,
    grads: M::Gradients,
    optimizer: O,
    threads: usize,
}

impl<M: Model<f32>, O: Step<f32>> Bench<M, O> {
    fn new(model: M, mut optimizer: O, batch: usize, threads: usize) -> Self {
        optimizer.prepare_for(&model);
        Bench {
            ws: model.workspace(batch, threads),
            grads: model.zero_gradients(),
            model,
            optimizer,
            threads,
        }
    }

    fn step(&mut self, x: ndarray::ArrayView2<f32>, y: &[usize]) -> f64 {
        let loss =
            self.model
                .batch_gradients(x, TargetsView::Classes(y), &mut self.ws, &mut self.grads);
        self.model.after_step(&self.ws);
        self.optimizer
            .step_on(&mut self.model, &self.grads, self.threads);
        loss
    }
}

/// An initialized plain network on the fused fast path with plain SGD (W1–W4).
fn mlp_bench(
    sizes: &[usize],
    activation: Activation,
    loss: Loss,
    init: &str,
    lr: f64,
    batch: usize,
    threads: usize,
) -> Bench<Mlp<f32>, Sgd<f32>> {
    let hidden = vec![activation; sizes.len() - 2];
    let mut mlp = Mlp::<f32>::new(sizes, &hidden, loss);
    mlp.initialize(&init.parse::<Init>().unwrap(), None, 0);
    Bench::new(mlp, Sgd::new(lr), batch, threads)
}

/// The layer-engine network a `[network]` TOML section describes (as an experiment builds
/// it), for `inputs` features and `outputs` classes, initialized with `init`.
fn network_from_toml(toml_text: &str, inputs: usize, outputs: usize, init: &str) -> Network<f32> {
    let spec: NetworkSpec = toml::from_str(toml_text).expect("a valid [network] section");
    let activation = spec.activations[0];
    let mut network = network_layers::<f32>(&spec.shape(), inputs, outputs, activation, spec.loss)
        .expect("a valid network");
    network.initialize(&init.parse::<Init>().unwrap(), None, 0);
    network
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
    let mut b = mlp_bench(
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
    let mut b = mlp_bench(
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
fn bench_batches<M: Model<f32>, O: Step<f32>>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    b: &mut Bench<M, O>,
    x: &Array2<f32>,
    y: &[usize],
    batch: usize,
    threads: usize,
) where
    Bench<M, O>: Send,
{
    bench_named(
        group,
        format!("{threads} thread(s)"),
        b,
        x,
        y,
        batch,
        threads,
    );
}

/// [`bench_batches`] under the benchmark name `name`.
fn bench_named<M: Model<f32>, O: Step<f32>>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: String,
    b: &mut Bench<M, O>,
    x: &Array2<f32>,
    y: &[usize],
    batch: usize,
    threads: usize,
) where
    Bench<M, O>: Send,
{
    let rows = x.nrows();
    let mut start = 0;
    let pool = pool(threads);
    group.bench_function(name, |bench| {
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

/// W3's data: 60,000 rows uniform in [0, 1)^784 with random labels 0–9 (MNIST's shape).
fn mnist_shape() -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows = 60_000;
    let x = Array2::from_shape_simple_fn((rows, 784), || rng.random::<f32>());
    let y: Vec<usize> = (0..rows).map(|_| rng.random_range(0..10)).collect();
    (x, y)
}

fn w3_mnist_shape(c: &mut Criterion) {
    let (x, y) = mnist_shape();
    let mut group = c.benchmark_group("W3 784-256-256-10 batch 128");
    group.throughput(Throughput::Elements(128));
    for threads in [1, 2] {
        let mut b = mlp_bench(
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
        let mut b = mlp_bench(
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

/// W6's `[network]`: 784 → 256, 8 pre-LayerNorm residual blocks of (LayerNorm, dense
/// 256 → 256, GELU, dense 256 → 256) with the identity skip, → 10.
fn w6_network_toml() -> String {
    let block = r#"{ residual = ["layernorm", { dense = 256 }, "activation", { dense = 256 }] }"#;
    let blocks = [block; 8].join(",\n    ");
    format!(
        "activations = [\"gelu\"]\nloss = \"softmax-cross-entropy\"\n\
         layers = [\n    {{ dense = 256 }},\n    {blocks},\n]\n"
    )
}

fn w6_residual_layernorm_adam(c: &mut Criterion) {
    let (x, y) = mnist_shape();
    let mut group =
        c.benchmark_group("W6 pre-LN residual 784-256x8 blocks-10 GELU Adam, batch 256");
    group.sample_size(20);
    for threads in [1, 2] {
        let network = network_from_toml(&w6_network_toml(), 784, 10, "he-normal");
        let mut b = Bench::new(network, Adam::new(1e-3), 256, threads);
        bench_batches(&mut group, &mut b, &x, &y, 256, threads);
    }
    group.finish();
}

/// W7's `[network]`: W3's 784-256-256-10 with BatchNorm between each hidden dense layer and
/// its ReLU.
const W7_NETWORK: &str = r#"
hidden = [256, 256]
activations = ["relu"]
loss = "softmax-cross-entropy"
norm = "batchnorm"
"#;

fn w7_batchnorm_momentum(c: &mut Criterion) {
    let (x, y) = mnist_shape();
    let mut group = c.benchmark_group("W7 784-256-256-10 BatchNorm, SGD momentum, batch 128");
    group.throughput(Throughput::Elements(128));
    for threads in [1, 2] {
        let network = network_from_toml(W7_NETWORK, 784, 10, "he-normal");
        let mut b = Bench::new(network, Sgd::with(0.01, 0.9, 0.0), 128, threads);
        bench_batches(&mut group, &mut b, &x, &y, 128, threads);
    }
    group.finish();
}

/// Floating-point operations of the products of one training step of a dense chain `sizes`
/// on `batch` rows: 2·batch·in·out for each layer's forward product and twice that backward
/// (dX and dW), the first layer without dX (nothing needs the data's gradient).
fn step_flops(sizes: &[usize], batch: usize) -> u64 {
    sizes
        .windows(2)
        .enumerate()
        .map(|(l, w)| if l == 0 { 4 } else { 6 } * (batch * w[0] * w[1]) as u64)
        .sum()
}

/// Cost as the work grows: W3's network at hidden widths 256 … 2048 and W4's at depths 10 …
/// 40, on two threads, with the step's flop count as the throughput (criterion's "elem/s" is
/// then flop/s), so that a reader sees the time follow the arithmetic.
fn scaling(c: &mut Criterion) {
    let (x, y) = mnist_shape();
    let mut group = c.benchmark_group("Scaling");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(3));
    group.warm_up_time(std::time::Duration::from_secs(1));
    let mut run = |name: String,
                   sizes: Vec<usize>,
                   activation,
                   init: &str,
                   batch: usize,
                   x: &Array2<f32>,
                   y: &[usize]| {
        group.throughput(Throughput::Elements(step_flops(&sizes, batch)));
        let mut b = mlp_bench(
            &sizes,
            activation,
            Loss::SoftmaxCrossEntropy,
            init,
            0.01,
            batch,
            2,
        );
        bench_named(&mut group, name, &mut b, x, y, batch, 2);
    };
    for width in [256, 512, 1024, 2048] {
        let name = format!("W3 784-{width}-{width}-10 batch 128, 2 threads");
        run(
            name,
            vec![784, width, width, 10],
            Activation::Relu,
            "he-normal",
            128,
            &x,
            &y,
        );
    }
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let rows = 256 * 20;
    let x4 =
        Array2::from_shape_simple_fn((rows, 256), || rng.sample::<f64, _>(StandardNormal) as f32);
    let y4: Vec<usize> = (0..rows).map(|_| rng.random_range(0..10)).collect();
    for depth in [10, 20, 40] {
        let mut sizes = vec![256; depth + 1];
        sizes.push(10);
        let name = format!("W4 {depth} tanh layers of 256 batch 256, 2 threads");
        run(
            name,
            sizes,
            Activation::Tanh,
            "xavier-normal",
            256,
            &x4,
            &y4,
        );
    }
    group.finish();
}

criterion_group!(
    benches,
    w1_xor,
    w2_spiral,
    w3_mnist_shape,
    w4_deep,
    w6_residual_layernorm_adam,
    w7_batchnorm_momentum,
    scaling
);
criterion_main!(benches);
