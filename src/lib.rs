//! memwatch-rs native core: the N-API surface that `index.js` wraps.
//!
//! `unsafe` code lives only in [`v8`]; every other module is safe Rust.
//!
//! Finalizers run inside the GC: the addon declares Node-API module version
//! `NAPI_VERSION_EXPERIMENTAL` (see [`v8::node_api`]; `trackGC` needs it to
//! be cheap), so every finalizer of this addon, napi-rs's class finalizers
//! included, and every `Drop` run from one, may make only "basic" Node-API
//! calls. `MEMWATCH_DEFERRED_FINALIZERS=1` at load time opts out.

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod flags_lock;
pub mod heap_diff;
mod isolate;
pub mod leak;
mod payload;
pub mod probe;
pub mod stats;
mod track;
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

/// Sets up `trackGC` for this thread's env and returns its `trackGC`
/// function. `create(register, unregister)` builds the JS half (see
/// `track-gc.js`); it is called once per env, later calls return the same
/// function.
#[napi(
    ts_args_type = "create: (register: (target: object, id: number) => void, unregister: (id: number) => boolean) => { trackGC: Function, deliver: (ids: Uint32Array) => void }",
    ts_return_type = "Function"
)]
pub fn track_gc_setup<'env>(env: &'env Env, create: track::Create<'env>) -> Result<Unknown<'env>> {
    track::setup(env, &state(env)?.track, create)
}

/// `trackGC`'s counters in this thread (for tests and diagnostics).
#[napi(object)]
pub struct TrackGcCounts {
    /// Registrations made.
    pub registered: f64,
    /// Finalizers run: targets collected (cancelled after collection or not)
    /// and, at thread exit, registrations still alive.
    pub collected: f64,
    /// Registrations removed by `cancel()` before their finalizer ran (Node
    /// freed their record then).
    pub cancelled: f64,
    /// Registrations whose target may still be alive (Node-API holds a record
    /// for each): registered − collected − cancelled.
    pub live: f64,
    /// Threads of the process whose trackGC state has not been freed yet (an
    /// ended worker's is freed once every registration it made is over).
    pub trackers_alive: u32,
    /// Registrations whose native record was still held when their thread's
    /// state was freed, over the whole process (what ended workers leaked).
    pub left_behind: f64,
    /// Collected targets whose callbacks are not delivered yet.
    pub pending: u32,
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

/// Runs a full, compacting GC now (no `--expose-gc` needed) and returns its
/// stats; queues one `stats` event when `emit` is true. Returns `null` when
/// the V8 backend is not available.
#[napi]
pub fn gc(env: Env, emit: bool) -> Result<Option<Stats>> {
    Ok(state(&env)?.force_gc(emit))
}

/// Whether the leak detector is due an early full GC (only while a `leak`
/// listener is attached). On the V8 backend this also asks V8 for one; in
/// fallback mode pass the used heap and run the GC yourself.
#[napi]
pub fn probe_if_due(env: Env, used_heap: Option<f64>) -> Result<bool> {
    Ok(state(&env)?.probe_if_due(used_heap.map(|u| u.max(0.0) as u64)))
}

/// Fallback mode: feeds a full GC seen from JS through the stats maths and
/// the leak detector, queuing events like a native GC would.
#[napi]
pub fn observe_full_gc(env: Env, gc: payload::ExternalGc, emit: bool) -> Result<Option<Stats>> {
    Ok(state(&env)?.observe_external(&gc.into(), emit))
}

/// Leak detector and probe settings (`memwatch.configure()`). Ranges and
/// meanings: [`leak::LeakConfig`] and [`probe::ProbeConfig`].
#[napi(object)]
pub struct Config {
    /// `'rate'` (default) or `'classic'` (memwatch's rule, fixed).
    pub rule: String,
    /// Lower bound of the floor's growth rate must reach this, bytes/hour. Default 1048576.
    pub min_rate_bytes_per_hour: f64,
    /// ...and this percent of the starting floor per hour. Default 1; 0 to 10000.
    pub min_rate_percent: f64,
    /// One-sided confidence of the rate bounds. Default 0.95; 0.5 to 0.9999.
    pub confidence: f64,
    /// Rise at the lower-bound rate, in units of the bases' scatter. Default 2.5; 0 to 1000.
    pub min_signal_to_noise: f64,
    /// Minimum rise at the lower-bound rate, bytes. Default 1048576.
    pub min_growth_bytes: f64,
    /// Growth must be sustained this long, ms. Default 120000; 0 to 86400000.
    pub grace_ms: f64,
    /// Skip the grace period when the heap limit is this close at the rate's lower bound, ms. Default 900000; 0 to 86400000.
    pub limit_horizon_ms: f64,
    /// Shortest growth period ever reported, ms. Default 15000; 0 to 86400000.
    pub min_duration_ms: f64,
    /// GCs older than this are forgotten, ms. Default 21600000; 60000 to 604800000.
    pub window_ms: f64,
    /// First repeat of a continuing leak, ms (then doubling). Default 120000; 1000 to 86400000.
    pub repeat_ms: f64,
    /// Longest interval between repeats, ms. Default 3600000; `repeatMs` to 604800000.
    pub repeat_max_ms: f64,
    /// Classic: report after this many consecutive growing full GCs. Default 5; 1 to 1000.
    pub classic_streak: u32,
    /// Ask V8 for early full GCs while a `leak` listener is attached. Default true.
    pub probe: bool,
    /// Shortest time from a full GC to a probe, ms. Default 2000; 100 to 3600000.
    pub probe_min_interval_ms: f64,
    /// Longest probe back-off while the heap is flat, ms. Default 300000; `probeMinIntervalMs` to 86400000.
    pub probe_max_interval_ms: f64,
    /// At least one full GC this often while growth is suspected, ms. Default 10000.
    pub probe_suspect_interval_ms: f64,
}

impl Config {
    fn from_parts(leak: &leak::LeakConfig, probe: &probe::ProbeConfig) -> Config {
        Config {
            rule: match leak.rule {
                leak::LeakRule::Rate => "rate",
                leak::LeakRule::Classic => "classic",
            }
            .into(),
            min_rate_bytes_per_hour: leak.min_rate_bytes_per_hour,
            min_rate_percent: leak.min_rate_percent,
            confidence: leak.confidence,
            min_signal_to_noise: leak.min_signal_to_noise,
            min_growth_bytes: leak.min_growth_bytes as f64,
            grace_ms: leak.grace_ms,
            limit_horizon_ms: leak.limit_horizon_ms,
            min_duration_ms: leak.min_duration_ms,
            window_ms: leak.window_ms,
            repeat_ms: leak.repeat_ms,
            repeat_max_ms: leak.repeat_max_ms,
            classic_streak: leak.classic_streak,
            probe: probe.enabled,
            probe_min_interval_ms: probe.min_interval_ms,
            probe_max_interval_ms: probe.max_interval_ms,
            probe_suspect_interval_ms: probe.suspect_interval_ms,
        }
    }

    /// The native settings, or the option name and message for a `RangeError`.
    fn to_parts(
        &self,
    ) -> std::result::Result<(leak::LeakConfig, probe::ProbeConfig), (String, String)> {
        let rule = match self.rule.as_str() {
            "rate" => leak::LeakRule::Rate,
            "classic" => leak::LeakRule::Classic,
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err((
                    "rule".into(),
                    format!("rule must be 'rate' or 'classic', got '{shown}'"),
                ));
            }
        };
        if !(self.min_growth_bytes.is_finite() && self.min_growth_bytes >= 0.0) {
            return Err((
                "minGrowthBytes".into(),
                format!(
                    "minGrowthBytes must be a number of bytes >= 0, got {}",
                    leak::format_num(self.min_growth_bytes)
                ),
            ));
        }
        let leak = leak::LeakConfig {
            rule,
            min_rate_bytes_per_hour: self.min_rate_bytes_per_hour,
            min_rate_percent: self.min_rate_percent,
            confidence: self.confidence,
            min_signal_to_noise: self.min_signal_to_noise,
            min_growth_bytes: self.min_growth_bytes as u64,
            grace_ms: self.grace_ms,
            limit_horizon_ms: self.limit_horizon_ms,
            min_duration_ms: self.min_duration_ms,
            window_ms: self.window_ms,
            repeat_ms: self.repeat_ms,
            repeat_max_ms: self.repeat_max_ms,
            classic_streak: self.classic_streak,
        };
        let probe = probe::ProbeConfig {
            enabled: self.probe,
            min_interval_ms: self.probe_min_interval_ms,
            max_interval_ms: self.probe_max_interval_ms,
            suspect_interval_ms: self.probe_suspect_interval_ms,
            ..Default::default()
        };
        leak.validate().map_err(|(k, m)| (k.to_string(), m))?;
        probe.validate().map_err(|(k, m)| (k.to_string(), m))?;
        Ok((leak, probe))
    }
}

/// The leak detector and probe settings in force in this isolate.
#[napi]
pub fn get_config(env: Env) -> Result<Config> {
    let (leak, probe) = state(&env)?.config();
    Ok(Config::from_parts(&leak, &probe))
}

/// Replaces the settings (the detector restarts). Returns `[option, message]`
/// when a value is out of range, and changes nothing then.
#[napi]
pub fn set_config(env: Env, config: Config) -> Result<Option<Vec<String>>> {
    match config.to_parts() {
        Ok((leak, probe)) => {
            state(&env)?.set_config(leak, probe);
            Ok(None)
        }
        Err((key, message)) => Ok(Some(vec![key, message])),
    }
}
