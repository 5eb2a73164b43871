//! GC accounting, memwatch's `stats` maths, the probe and the leak detector.
//!
//! Pure logic on plain data: nothing here touches N-API or V8, so `cargo test`
//! covers it. The FFI reports V8's raw GC type and flag bits; [`kind`] says
//! what they mean.

#![forbid(unsafe_code)]

pub mod flags;
pub mod kind;
pub mod leak;
pub mod probe;
#[cfg(test)]
pub mod sim;
pub mod stats;
