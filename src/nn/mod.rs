//! The engine.
pub mod gemm;
