//! Shared by every benchmark binary: seeded input pools rotated per
//! iteration, the two baselines (plain scalar Rust and nalgebra), and the
//! check that each baseline agrees with constgrad before it is timed.
//!
//! Each bench binary uses a different part of this module.
#![allow(dead_code)]

pub mod check;
pub mod gen;
pub mod nalg;
pub mod scalar;
pub mod target;
