//! memwatch-rs native core.
//!
//! - [`api`]: the `#[napi]` surface (one file per feature), typed with
//!   [`payload`], every value that crosses to JS, defined once;
//! - [`isolate`]: per-isolate state (main thread and each worker) and its
//!   cleanup;
//! - [`gc`]: GC accounting, `stats` maths, probe and leak detector (pure);
//! - [`heap_diff`]: snapshot sources, records, diff, retainer paths;
//! - [`track`]: `trackGC`'s per-isolate tracker;
//! - [`sampling`]: the sampling heap profiler (allocation sites), per isolate;
//! - [`ffi`]: the only module allowed `unsafe` (V8 symbols, raw Node-API).
//!
//! Finalizers run inside the GC: the addon declares Node-API module version
//! `NAPI_VERSION_EXPERIMENTAL` (see [`ffi::track_gc`]; `trackGC` needs it to
//! be cheap), so every finalizer of this addon, napi-rs's class finalizers
//! included, and every `Drop` run from one, may make only "basic" Node-API
//! calls. `MEMWATCH_DEFERRED_FINALIZERS=1` at load time opts out.

#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod api;
pub mod env_flags;
pub mod ffi;
pub mod gc;
pub mod heap_diff;
mod isolate;
pub mod payload;
pub mod sampling;
pub mod text;
mod track;
mod trim;
