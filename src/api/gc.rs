//! `stats`, `leak`, `gc()` and `configure()`: attaching to a thread, the
//! listener interest, forced GCs, the probe, and the settings.

use std::rc::Rc;

use napi::bindgen_prelude::{
    Function, JsObjectValue, KeyCollectionMode, KeyConversion, KeyFilter, Object, Unknown,
};
use napi::{Env, JsValue, Result, ValueType};
use napi_derive::napi;

use super::describe::{describe, string, symbol};
use super::{state, throw, Throw};
use crate::env_flags;
use crate::ffi::gc::{GcApi, Isolate};
use crate::ffi::{layout_for, VERIFIED_MAJORS};
use crate::heap_diff::Source;
use crate::isolate::{Interest, IsolateState};
use crate::payload::{
    AttachInfo, Backend, Config, Event, FallbackGc, LeakStatusInfo, Rule, SnapshotSource, Stats,
};

fn v8_backend(major: u32) -> std::result::Result<(GcApi, Isolate), String> {
    if env_flags::flag(env_flags::FORCE_FALLBACK) {
        return Err(format!("{} is set", env_flags::FORCE_FALLBACK));
    }
    let Some(layout) = layout_for(major) else {
        return Err(format!(
            "Node {major} is not in the verified V8 table (Node {VERIFIED_MAJORS:?})"
        ));
    };
    let api = GcApi::resolve(layout)
        .map_err(|missing| format!("this node binary does not export {missing}"))?;
    match api.current_isolate() {
        Some(isolate) => Ok((api, isolate)),
        None => Err("no V8 isolate is entered on this thread".into()),
    }
}

/// Sets up memwatch-rs for the calling thread's isolate (once per thread;
/// a second call only replaces the handler). `onEvents(events)` is called on
/// the event loop with the `stats` and `leak` events due, oldest first.
#[napi(ts_args_type = "onEvents: (events: Event[]) => void")]
pub fn attach(env: Env, on_events: Function<Vec<Event>, Unknown<'static>>) -> Result<AttachInfo> {
    let waker = on_events
        .build_threadsafe_function::<()>()
        .weak::<true>()
        .callee_handled::<false>()
        .build_callback(|ctx| match state(&ctx.env) {
            Ok(s) => Ok(s.take_events(&ctx.env)),
            Err(_) => Ok(Vec::new()),
        })?;
    let major = env.get_node_version().map(|v| v.major).unwrap_or(0);
    let (state, reason, first) = match env.get_instance_data::<Rc<IsolateState>>()? {
        Some(existing) => (Rc::clone(existing), None, false),
        None => {
            let v8 = v8_backend(major);
            let reason = v8.as_ref().err().cloned();
            let state = IsolateState::new(v8, major);
            env.set_instance_data(Rc::clone(&state), (), |_| {})?;
            env.add_env_cleanup_hook(Rc::clone(&state), |s| s.close())?;
            (state, reason, true)
        }
    };
    state.set_waker(waker);
    let backend = if state.has_v8() {
        Backend::V8
    } else {
        Backend::Fallback
    };
    let (heap_diff_source, heap_diff_reason, requested) =
        match state.heap_diff.source(major, state.v8_isolate()) {
            Source::V8(..) => (SnapshotSource::V8, None, false),
            Source::Json { reason, requested } => (SnapshotSource::Json, Some(reason), requested),
        };
    let mut warnings = Vec::new();
    if first && !env_flags::flag(env_flags::FORCE_FALLBACK) {
        if let Some(reason) = &reason {
            warnings.push(format!(
                "memwatch-rs is using its fallback backend: {reason}"
            ));
        } else if let (Some(reason), false) = (&heap_diff_reason, requested) {
            warnings.push(format!(
                "memwatch-rs HeapDiff is using its JSON snapshot source: {reason}"
            ));
        }
    }
    Ok(AttachInfo {
        backend,
        reason,
        node_major: major,
        heap_diff_source,
        heap_diff_reason,
        warnings,
    })
}

/// The leak detector's current estimate in this thread (also between
/// reports): state, rate with its interval, floor, heap limit, time to it.
#[napi]
pub fn leak_status(env: Env) -> Result<LeakStatusInfo> {
    Ok(state(&env)?.leak_status())
}

/// Tells the native side which events have listeners: `stats`, whether
/// the leak detector runs (`leak`: a listener or an exporter's hold) and
/// whether its reports are delivered (`reports`: a `leak` listener).
#[napi]
pub fn set_interest(env: Env, stats: bool, leak: bool, reports: bool) -> Result<()> {
    state(&env)?.set_interest(
        &env,
        Interest {
            stats,
            leak,
            reports,
        },
    );
    Ok(())
}

/// Runs a full, compacting GC now (no `--expose-gc` needed) and returns its
/// stats; with `emit`, one `stats` event follows on the next loop turn.
/// Returns `null` on the fallback backend (JS runs the GC there).
#[napi]
pub fn gc(env: Env, emit: bool) -> Result<Option<Stats>> {
    Ok(state(&env)?.force_gc(&env, emit))
}

/// Whether the leak detector is due an early full GC (only while a `leak`
/// listener is attached). On the V8 backend this also asks V8 for one; in
/// fallback mode pass the used heap and run the GC yourself.
#[napi]
pub fn probe_if_due(env: Env, used_heap: Option<f64>) -> Result<bool> {
    Ok(state(&env)?.probe_if_due(used_heap.map(|u| u.max(0.0) as u64)))
}

/// Fallback backend: a full GC seen from JS. A natural one is queued like a
/// GC hook would (its events come through `onEvents`); `gc()`'s (`forced`)
/// is processed at once and its stats returned.
#[napi]
pub fn observe_fallback_gc(env: Env, gc: FallbackGc, emit: bool) -> Result<Option<Stats>> {
    Ok(state(&env)?.observe_fallback_gc(&env, gc.into(), emit))
}

/// Calls `f()` while holding a lock shared by every thread of the process,
/// and returns its result (the fallback's V8 flag flip; see `gc::flags`).
#[napi(ts_args_type = "f: () => unknown", ts_return_type = "unknown")]
pub fn with_v8_flags_lock<'env>(
    _env: &'env Env,
    f: Function<'env, (), Unknown<'env>>,
) -> Result<Unknown<'env>> {
    crate::gc::flags::with_v8_flags_lock(|| f.call(()))
}

/// The type an option of `configure()` must have.
#[derive(Clone, Copy)]
enum Want {
    Rule,
    Number,
    Integer,
    Boolean,
}

/// Every option `configure()` knows, in the order the messages list them.
const OPTIONS: [(&str, Want); 19] = [
    ("rule", Want::Rule),
    ("minRateBytesPerHour", Want::Number),
    ("minRatePercent", Want::Number),
    ("confidence", Want::Number),
    ("minSignalToNoise", Want::Number),
    ("minGrowthBytes", Want::Integer),
    ("graceMs", Want::Number),
    ("limitHorizonMs", Want::Number),
    ("minDurationMs", Want::Number),
    ("windowMs", Want::Number),
    ("repeatMs", Want::Number),
    ("repeatMaxMs", Want::Number),
    ("classicStreak", Want::Integer),
    ("probe", Want::Boolean),
    ("probeMinIntervalMs", Want::Number),
    ("probeMaxIntervalMs", Want::Number),
    ("probeSuspectIntervalMs", Want::Number),
    ("suspects", Want::Boolean),
    ("suspectsMaxHeapBytes", Want::Integer),
];

fn known() -> String {
    OPTIONS.map(|(name, _)| name).join(", ")
}

/// The number field of `config` named `key` (every option but `rule`,
/// `probe` and `suspects`).
fn number_field<'c>(config: &'c mut Config, key: &str) -> Option<&'c mut f64> {
    Some(match key {
        "minRateBytesPerHour" => &mut config.min_rate_bytes_per_hour,
        "minRatePercent" => &mut config.min_rate_percent,
        "confidence" => &mut config.confidence,
        "minSignalToNoise" => &mut config.min_signal_to_noise,
        "minGrowthBytes" => &mut config.min_growth_bytes,
        "graceMs" => &mut config.grace_ms,
        "limitHorizonMs" => &mut config.limit_horizon_ms,
        "minDurationMs" => &mut config.min_duration_ms,
        "windowMs" => &mut config.window_ms,
        "repeatMs" => &mut config.repeat_ms,
        "repeatMaxMs" => &mut config.repeat_max_ms,
        "classicStreak" => &mut config.classic_streak,
        "probeMinIntervalMs" => &mut config.probe_min_interval_ms,
        "probeMaxIntervalMs" => &mut config.probe_max_interval_ms,
        "probeSuspectIntervalMs" => &mut config.probe_suspect_interval_ms,
        "suspectsMaxHeapBytes" => &mut config.suspects_max_heap_bytes,
        _ => return None,
    })
}

/// Reads (`options` absent) or changes the leak detector's settings and
/// returns the settings in force. Each option's value is read once; unknown
/// options and wrong types throw a `TypeError`, out-of-range values a
/// `RangeError`, each naming the option; a rejected call changes nothing,
/// an accepted one restarts the detector.
#[napi(ts_args_type = "options?: Partial<Config>")]
pub fn configure(env: Env, options: Unknown) -> Result<Config> {
    let state = state(&env)?;
    let (leak, probe, suspects) = state.config();
    let mut config = Config::from_parts(&leak, &probe, suspects);
    let kind = options.get_type()?;
    if kind == ValueType::Undefined {
        return Ok(config);
    }
    let prefix = "memwatch.configure()";
    if kind != ValueType::Object || options.is_array()? {
        return Err(throw(
            &env,
            Throw::Type,
            &format!(
                "memwatch.configure(options): options must be an object, got {}",
                describe(&options)
            ),
        ));
    }
    let object: Object = options.coerce_to_object()?;
    let keys: Object = object.get_all_property_names(
        KeyCollectionMode::OwnOnly,
        KeyFilter::Enumerable,
        KeyConversion::NumbersToStrings,
    )?;
    let count = keys.get_array_length()?;
    for i in 0..count {
        let key: Unknown = keys.get_element(i)?;
        if key.get_type()? == ValueType::Symbol {
            return Err(throw(
                &env,
                Throw::Type,
                &format!(
                    "{prefix}: unknown option {} (known: {})",
                    symbol(&key),
                    known()
                ),
            ));
        }
        let name = string(&key).unwrap_or_default();
        let Some(&(name, want)) = OPTIONS.iter().find(|(n, _)| *n == name) else {
            return Err(throw(
                &env,
                Throw::Type,
                &format!("{prefix}: unknown option \"{name}\" (known: {})", known()),
            ));
        };
        // Read once: what is checked is what is applied (a getter may not
        // answer the same twice).
        let value: Unknown = object.get_property(key)?;
        let t = value.get_type()?;
        let number = || value.coerce_to_number().and_then(|n| n.get_double());
        let ok = match want {
            Want::Rule => t == ValueType::String,
            Want::Boolean => t == ValueType::Boolean,
            Want::Number => t == ValueType::Number && !number()?.is_nan(),
            Want::Integer => t == ValueType::Number && number()?.fract() == 0.0,
        };
        if !ok {
            let wanted = match want {
                Want::Rule => "'rate' or 'classic'",
                Want::Boolean => "a boolean",
                Want::Number => "a number",
                Want::Integer => "an integer",
            };
            return Err(throw(
                &env,
                Throw::Type,
                &format!(
                    "{prefix}: {name} must be {wanted}, got {}",
                    describe(&value)
                ),
            ));
        }
        match want {
            Want::Rule => {
                let text = string(&value).unwrap_or_default();
                config.rule = match text.as_str() {
                    "rate" => Rule::Rate,
                    "classic" => Rule::Classic,
                    _ => {
                        return Err(throw(
                            &env,
                            Throw::Range,
                            &format!("{prefix}: rule must be 'rate' or 'classic', got '{text}'"),
                        ))
                    }
                }
            }
            Want::Boolean => {
                let on = value.coerce_to_bool()?;
                match name {
                    "suspects" => config.suspects = on,
                    _ => config.probe = on,
                }
            }
            Want::Number | Want::Integer => {
                let v = number()?;
                if let Some(field) = number_field(&mut config, name) {
                    *field = v;
                }
            }
        }
    }
    match config.to_parts() {
        Ok((leak, probe, suspects)) => {
            state.set_config(&env, leak, probe, suspects);
            let (leak, probe, suspects) = state.config();
            Ok(Config::from_parts(&leak, &probe, suspects))
        }
        Err((_, message)) => Err(throw(&env, Throw::Range, &format!("{prefix}: {message}"))),
    }
}
