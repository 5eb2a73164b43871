//! memwatch-rs native core: the N-API surface that `index.js` wraps.
//!
//! `unsafe` code lives only in [`v8`]; every other module is safe Rust.

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod heap_diff;
mod isolate;
pub mod leak;
mod payload;
pub mod stats;
mod v8;

use std::rc::Rc;

use napi::bindgen_prelude::{Function, Unknown};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

use isolate::{Event, Interest, IsolateState};
pub use payload::Stats;

/// Which backend serves this isolate, and why.
#[napi(object)]
pub struct AttachInfo {
    /// `'v8'` (V8 GC hooks and heap profiler) or `'fallback'` (N-API and JS only).
    pub backend: String,
    /// Why the fallback is in use; absent on the V8 backend.
    pub reason: Option<String>,
    /// Major version of the running Node.
    pub node_major: u32,
}

/// A `leak` event before JS turns its times into `Date`s.
#[napi(object)]
pub struct LeakInfo {
    /// Time of the base before growth began, ms since the epoch.
    pub start_ms: f64,
    /// Time of the GC that confirmed the leak, ms since the epoch.
    pub end_ms: f64,
    /// Bytes the base grew from `start` to `end`.
    pub growth: f64,
    /// Full GCs in the growth run.
    pub gcs: u32,
    /// Human-readable summary with the growth rate.
    pub reason: String,
}

/// One queued event: `stats` or `leak`.
#[napi(object)]
pub struct NativeEvent {
    /// `'stats'` or `'leak'`.
    pub kind: String,
    /// Present when `kind` is `'stats'`.
    pub stats: Option<Stats>,
    /// Present when `kind` is `'leak'`.
    pub leak: Option<LeakInfo>,
}

pub(crate) fn state(env: &Env) -> Result<Rc<IsolateState>> {
    match env.get_instance_data::<Rc<IsolateState>>()? {
        Some(s) => Ok(Rc::clone(s)),
        None => Err(Error::new(
            Status::GenericFailure,
            "memwatch-rs: the native module is not attached in this thread",
        )),
    }
}

fn v8_backend(
    env: &Env,
    force_fallback: bool,
) -> (u32, std::result::Result<(v8::GcApi, v8::Isolate), String>) {
    let major = env.get_node_version().map(|v| v.major).unwrap_or(0);
    if force_fallback {
        return (major, Err("MEMWATCH_FORCE_FALLBACK is set".into()));
    }
    let Some(layout) = v8::layout_for(major) else {
        return (
            major,
            Err(format!(
                "Node {major} is not in the verified V8 table (Node {:?})",
                v8::VERIFIED_MAJORS
            )),
        );
    };
    let api = match v8::GcApi::resolve(layout) {
        Ok(api) => api,
        Err(missing) => {
            return (
                major,
                Err(format!("this node binary does not export {missing}")),
            )
        }
    };
    match api.current_isolate() {
        Some(isolate) => (major, Ok((api, isolate))),
        None => (major, Err("no V8 isolate is entered on this thread".into())),
    }
}

/// Sets up memwatch-rs for the calling thread's isolate. `onWake` is called
/// (with no arguments, on the event loop) whenever events are waiting.
#[napi]
pub fn attach(
    env: Env,
    on_wake: Function<(), Unknown<'static>>,
    force_fallback: bool,
) -> Result<AttachInfo> {
    let waker = on_wake
        .build_threadsafe_function::<()>()
        .weak::<true>()
        .callee_handled::<false>()
        .build()?;
    if let Some(existing) = env.get_instance_data::<Rc<IsolateState>>()? {
        existing.set_waker(waker);
        let (major, _) = v8_backend(&env, true);
        return Ok(AttachInfo {
            backend: if existing.has_v8() { "v8" } else { "fallback" }.into(),
            reason: None,
            node_major: major,
        });
    }
    let (major, backend) = v8_backend(&env, force_fallback);
    let (v8, reason) = match backend {
        Ok(v8) => (Some(v8), None),
        Err(reason) => (None, Some(reason)),
    };
    let state = IsolateState::new(v8, waker);
    env.set_instance_data(Rc::clone(&state), (), |_| {})?;
    env.add_env_cleanup_hook(state, |s| s.close())?;
    Ok(AttachInfo {
        backend: if v8.is_some() { "v8" } else { "fallback" }.into(),
        reason,
        node_major: major,
    })
}

/// Tells the native side which events have listeners.
#[napi]
pub fn set_interest(env: Env, stats: bool, leak: bool) -> Result<()> {
    state(&env)?.set_interest(Interest { stats, leak });
    Ok(())
}

/// Takes the events queued since the last call, oldest first.
#[napi]
pub fn take_events(env: Env) -> Result<Vec<NativeEvent>> {
    let events = state(&env)?.take_events();
    Ok(events
        .into_iter()
        .map(|e| match e {
            Event::Stats(s) => NativeEvent {
                kind: "stats".into(),
                stats: Some(*s),
                leak: None,
            },
            Event::Leak(l) => NativeEvent {
                kind: "leak".into(),
                stats: None,
                leak: Some(LeakInfo {
                    start_ms: l.start_ms,
                    end_ms: l.end_ms,
                    growth: l.growth as f64,
                    gcs: l.gcs,
                    reason: l.reason,
                }),
            },
        })
        .collect())
}

/// Runs a full, compacting GC now (no `--expose-gc` needed) and returns its
/// stats; queues one `stats` event when `emit` is true. Returns `null` when
/// the V8 backend is not available.
#[napi]
pub fn gc(env: Env, emit: bool) -> Result<Option<Stats>> {
    Ok(state(&env)?.force_gc(emit))
}
