//! The threaded optimizer update (`initlab::nn::optim::update_tensors`: blocks of every
//! tensor taken by the threads from one counter) gives the one-thread update bit for bit, for
//! every optimizer and thread count, over more tensors than one pass shares out and over
//! tensors of every size class (empty, smaller than a block, crossing block boundaries); and
//! a parameter set whose tensors overlap is refused instead of written by two threads.

use initlab::nn::optim::PAR_BLOCK;
use initlab::nn::{Adam, Optimizer, ParamList, ParamSet, RmsProp, Sgd};

/// A bare parameter set: one vector per tensor.
#[derive(Clone, Debug, PartialEq)]
struct Tensors(Vec<Vec<f32>>);

impl ParamSet<f32> for Tensors {
    fn tensor_count(&self) -> usize {
        self.0.len()
    }
    fn tensor(&self, i: usize) -> &[f32] {
        &self.0[i]
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.0[i]
    }
}

/// 70 tensors (more than the 64 of one pass) of sizes 0, 3, 1000+, a block, and 1.2 blocks,
/// with values of mixed sign and magnitude.
fn tensors(salt: usize) -> Tensors {
    Tensors(
        (0..70)
            .map(|i| {
                let len = match i % 5 {
                    0 => PAR_BLOCK + PAR_BLOCK / 5 + i,
                    1 => 3,
                    2 => 0,
                    3 => 1000 + i,
                    _ => PAR_BLOCK,
                };
                (0..len)
                    .map(|j| {
                        let h = (j * 2_654_435_761 + i * 40_503 + salt * 977) % 10_007;
                        (h as f32 / 10_007.0 - 0.5) * (1 + j % 7) as f32
                    })
                    .collect()
            })
            .collect(),
    )
}

fn optimizers() -> Vec<(&'static str, Optimizer<f32>)> {
    let mut nesterov = Sgd::with(0.05, 0.9, 1e-4);
    nesterov.nesterov = true;
    let mut rms = RmsProp::new(1e-3);
    rms.momentum = 0.5;
    rms.weight_decay = 1e-3;
    vec![
        ("sgd", Optimizer::Sgd(Sgd::new(0.1))),
        ("sgd nesterov", Optimizer::Sgd(nesterov)),
        ("adam", Optimizer::Adam(Adam::new(1e-3))),
        ("adamw", Optimizer::Adam(Adam::adamw(1e-3))),
        ("rmsprop momentum", Optimizer::RmsProp(rms)),
    ]
}

#[test]
fn threaded_updates_equal_the_one_thread_update_bit_for_bit() {
    let start = tensors(0);
    let grads = [tensors(1), tensors(2), tensors(3)];
    for threads in [2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for ((name, mut one_opt), (_, mut many_opt)) in optimizers().into_iter().zip(optimizers()) {
            let (mut one, mut many) = (start.clone(), start.clone());
            for g in &grads {
                one_opt.step(&mut one, g, 1);
                pool.install(|| many_opt.step(&mut many, g, threads));
            }
            assert_ne!(one, start, "{name}: the steps changed the weights");
            assert!(
                one == many,
                "{name}: {threads} threads differ from one thread"
            );
        }
    }
}

/// Tensor 1 is tensor 0 again: two threads would update the same values twice over.
struct Overlapping(Vec<f32>, Vec<f32>);

impl ParamSet<f32> for Overlapping {
    fn tensor_count(&self) -> usize {
        3
    }
    fn tensor(&self, i: usize) -> &[f32] {
        if i == 2 { &self.1 } else { &self.0 }
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [f32] {
        if i == 2 { &mut self.1 } else { &mut self.0 }
    }
}

#[test]
#[should_panic(expected = "two parameter tensors overlap in memory")]
fn a_parameter_set_with_overlapping_tensors_is_refused() {
    let mut params = Overlapping(vec![1.0; 2 * PAR_BLOCK], vec![1.0; 8]);
    let grads = ParamList::copy_of(&params);
    let mut sgd = Optimizer::Sgd(Sgd::new(1.0));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    pool.install(|| sgd.step(&mut params, &grads, 2));
}

/// [`Tensors`] with a learning-rate multiplier per tensor (0.5, 1, 2, 4 in turn), as a μP or
/// NTK network carries them.
#[derive(Clone, Debug, PartialEq)]
struct Scaled(Tensors);

impl ParamSet<f32> for Scaled {
    fn tensor_count(&self) -> usize {
        self.0.tensor_count()
    }
    fn tensor(&self, i: usize) -> &[f32] {
        self.0.tensor(i)
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [f32] {
        self.0.tensor_mut(i)
    }
    fn learning_rate_multiplier(&self, i: usize) -> f64 {
        [0.5, 1.0, 2.0, 4.0][i % 4]
    }
}

/// Per-tensor learning-rate multipliers on threads: the same bits as one thread, and not
/// what the plain rule gives (each block runs its tensor's rule).
#[test]
fn threaded_updates_with_learning_rate_multipliers_equal_one_thread() {
    let start = Scaled(tensors(0));
    let grads = tensors(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for ((name, mut one_opt), (_, mut many_opt)) in optimizers().into_iter().zip(optimizers()) {
        let (mut one, mut many) = (start.clone(), start.clone());
        one_opt.prepare(&one);
        many_opt.prepare(&many);
        one_opt.step(&mut one, &grads, 1);
        pool.install(|| many_opt.step(&mut many, &grads, 2));
        assert!(one == many, "{name}: 2 threads differ from one thread");
        let (mut plain, mut plain_opt) = (start.0.clone(), optimizers().remove(0).1);
        plain_opt.prepare(&plain);
        plain_opt.step(&mut plain, &grads, 1);
        if name == "sgd" {
            assert_ne!(plain, one.0, "the multipliers changed the step");
        }
    }
}
