//! `trackGC`: the JS half (`lib/track-gc.js`) is created once per thread
//! around the raw register/unregister functions of [`crate::track`].

use napi::bindgen_prelude::Unknown;
use napi::{Env, Result};
use napi_derive::napi;

use super::state;
use crate::payload::TrackGcCounts;
use crate::track;

/// Sets up `trackGC` for this thread and returns its `trackGC` function.
/// `create(register, unregister)` builds the JS half (see
/// `lib/track-gc.js`); it is called once per thread, later calls return the
/// same function.
#[napi(
    ts_args_type = "create: (register: (target: object, id: number) => void, unregister: (id: number) => boolean) => { trackGC: Function, deliver: (ids: Uint32Array) => void }",
    ts_return_type = "Function"
)]
pub fn track_gc_setup<'env>(env: &'env Env, create: track::Create<'env>) -> Result<Unknown<'env>> {
    track::setup(env, &state(env)?.track, create)
}

/// Reads `trackGC`'s counters for this thread.
#[napi]
pub fn track_gc_counts(env: Env) -> Result<TrackGcCounts> {
    let c = state(&env)?.track.counts();
    let (trackers_alive, left_behind) = track::process_counts();
    Ok(TrackGcCounts {
        registered: c.registered as f64,
        collected: c.collected as f64,
        cancelled: c.cancelled as f64,
        live: c.live as f64,
        trackers_alive: trackers_alive.min(u32::MAX as usize) as u32,
        left_behind: left_behind as f64,
        pending: c.pending.min(u32::MAX as usize) as u32,
    })
}
