//! Profiling helper: W2 (spiral 2-100-3, full batch) for N steps.
//!
//! Prints the mean µs/step and the best 500-step batch (robust to other load on the machine).
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
    let mut best = f64::INFINITY;
    let mut done = 0;
    while done < steps {
        let batch = 500.min(steps - done);
        let tb = std::time::Instant::now();
        for _ in 0..batch {
            loss = mlp.loss_and_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut g);
            sgd.step(&mut mlp, &g);
        }
        best = best.min(tb.elapsed().as_secs_f64() * 1e6 / batch as f64);
        done += batch;
    }
    println!(
        "{:.2} us/step (best 500-step batch {best:.2}), loss {loss}",
        t.elapsed().as_secs_f64() * 1e6 / steps as f64
    );
}
