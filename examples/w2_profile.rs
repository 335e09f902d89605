//! Profiling helper: W2 (spiral 2-100-3, full batch) for N steps.
use initlab::data::generators;
use initlab::nn::*;
use rand::SeedableRng;
fn main() {
    let ds = generators::spiral(100, 3, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    let x = ds.features.mapv(|v| v as f32);
    let y = match &ds.target {
        initlab::data::Target::Classes { labels, .. } => labels.clone(),
        _ => unreachable!(),
    };
    let mut mlp = Mlp::<f32>::new(&[2, 100, 3], &[Activation::Relu], Loss::SoftmaxCrossEntropy);
    mlp.initialize(&"he-normal".parse::<Init>().unwrap(), None, 0);
    let mut ws = Workspace::new(&mlp, 300);
    let mut g = Gradients::zeros_like(&mlp);
    let mut sgd = Sgd::new(1.0);
    let steps: usize = std::env::args()
        .nth(1)
        .map_or(10000, |s| s.parse().unwrap());
    let t = std::time::Instant::now();
    let mut loss = 0.0;
    for _ in 0..steps {
        loss = mlp.loss_and_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut g);
        sgd.step(&mut mlp, &g);
    }
    println!(
        "{:.2} us/step, loss {loss}",
        t.elapsed().as_secs_f64() * 1e6 / steps as f64
    );
}
