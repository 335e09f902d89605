//! Each activation φ and its derivative φ′ as exact `f64` functions of the pre-activation,
//! for quadrature (the engine's kernels may use fast approximations and compute φ′ from
//! the output; the theory wants the textbook functions).

use crate::nn::Activation;
use crate::nn::activation::{SELU_ALPHA, SELU_LAMBDA};

/// φ(u).
pub fn phi(activation: Activation, u: f64) -> f64 {
    match activation {
        Activation::Identity => u,
        Activation::Sigmoid => 1.0 / (1.0 + (-u).exp()),
        Activation::Tanh => u.tanh(),
        Activation::Relu => u.max(0.0),
        Activation::LeakyRelu { slope } => {
            if u > 0.0 {
                u
            } else {
                slope * u
            }
        }
        Activation::Selu => {
            if u > 0.0 {
                SELU_LAMBDA * u
            } else {
                SELU_LAMBDA * SELU_ALPHA * u.exp_m1()
            }
        }
        Activation::Softsign => u / (1.0 + u.abs()),
        Activation::Gelu | Activation::GeluTanh | Activation::Silu => {
            activation.value_and_derivative(u).0
        }
    }
}

/// φ′(u) (ReLU′(0) = 0, as in the engine).
pub fn dphi(activation: Activation, u: f64) -> f64 {
    match activation {
        Activation::Identity => 1.0,
        Activation::Sigmoid => {
            let s = 1.0 / (1.0 + (-u).exp());
            s * (1.0 - s)
        }
        Activation::Tanh => {
            // sech² u = 1 − tanh² u, written so that it does not lose digits for large |u|.
            let c = u.abs().min(350.0).cosh();
            1.0 / (c * c)
        }
        Activation::Relu => {
            if u > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::LeakyRelu { slope } => {
            if u > 0.0 {
                1.0
            } else {
                slope
            }
        }
        Activation::Selu => {
            if u > 0.0 {
                SELU_LAMBDA
            } else {
                SELU_LAMBDA * SELU_ALPHA * u.exp()
            }
        }
        Activation::Softsign => {
            let d = 1.0 + u.abs();
            1.0 / (d * d)
        }
        Activation::Gelu | Activation::GeluTanh | Activation::Silu => {
            activation.value_and_derivative(u).1
        }
    }
}
