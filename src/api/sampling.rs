//! Allocation sites: `startSampling()`, `stopSampling()`,
//! `samplingProfile()`, `writeProfile()` and `diffProfiles()`.

use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{
    JsObjectValue, KeyCollectionMode, KeyConversion, KeyFilter, Object, Unknown,
};
use napi::{Env, JsValue, Result, ValueType};
use napi_derive::napi;

use super::describe::{describe, string, symbol};
use super::{state, throw, Throw};
use crate::ffi::malloc_trim;
use crate::payload::{
    date, SamplingDiff, SamplingFrame, SamplingProfile, SamplingSettings, SamplingSite,
    SamplingTotal,
};
use crate::sampling::{pprof, Settings, MAX_DEPTH, MAX_INTERVAL};

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

const OPTIONS: [&str; 2] = ["intervalBytes", "stackDepth"];

/// Reads `startSampling()`'s options: each value once, unknown options
/// and wrong types a `TypeError`, out-of-range integers a `RangeError`.
fn settings(env: &Env, options: &Unknown) -> Result<Settings> {
    let prefix = "memwatch.startSampling(options)";
    let mut out = Settings::default();
    let t = options.get_type()?;
    if t == ValueType::Undefined {
        return Ok(out);
    }
    if t != ValueType::Object || options.is_array()? {
        return Err(throw(
            env,
            Throw::Type,
            &format!(
                "{prefix}: options must be an object, got {}",
                describe(options)
            ),
        ));
    }
    let object: Object = options.coerce_to_object()?;
    let keys: Object = object.get_all_property_names(
        KeyCollectionMode::OwnOnly,
        KeyFilter::Enumerable,
        KeyConversion::NumbersToStrings,
    )?;
    let known = OPTIONS.join(", ");
    for i in 0..keys.get_array_length()? {
        let key: Unknown = keys.get_element(i)?;
        let name = if key.get_type()? == ValueType::Symbol {
            symbol(&key)
        } else {
            string(&key).unwrap_or_default()
        };
        let (max, slot) = match name.as_str() {
            "intervalBytes" => (MAX_INTERVAL, 0),
            "stackDepth" => (u64::from(MAX_DEPTH), 1),
            _ => {
                let shown = if key.get_type()? == ValueType::Symbol {
                    name
                } else {
                    format!("\"{name}\"")
                };
                return Err(throw(
                    env,
                    Throw::Type,
                    &format!("{prefix}: unknown option {shown} (known: {known})"),
                ));
            }
        };
        let value: Unknown = object.get_property(key)?;
        let message = format!(
            "{prefix}: {name} must be an integer from 1 to {max}, got {}",
            describe(&value)
        );
        if value.get_type()? != ValueType::Number {
            return Err(throw(env, Throw::Type, &message));
        }
        let x = value.coerce_to_number()?.get_double()?;
        if x.fract() != 0.0 {
            return Err(throw(env, Throw::Type, &message));
        }
        if !(1.0..=max as f64).contains(&x) {
            return Err(throw(env, Throw::Range, &message));
        }
        if slot == 0 {
            out.interval_bytes = x as u64;
        } else {
            out.stack_depth = x as u32;
        }
    }
    Ok(out)
}

/// Starts V8's sampling heap profiler in this thread and returns the
/// settings in force. `TypeError`/`RangeError` naming a bad option; an
/// `Error` if sampling already runs here (ours or another profiler's), or
/// is not available (fallback backend, unverified Node, missing symbol).
#[napi(ts_args_type = "options?: SamplingOptions")]
pub fn start_sampling(env: Env, options: Unknown) -> Result<SamplingSettings> {
    let wanted = settings(&env, &options)?;
    let state = state(&env)?;
    state
        .sampling
        .start(state.node_major, state.v8_isolate(), wanted)
        .map_err(|m| throw(&env, Throw::Plain, &m))?;
    Ok(wanted.into())
}

/// Stops sampling in this thread (its samples are dropped); false if it was
/// not running. With no sampler left, V8 frees the names its heap snapshots
/// made while sampling ran (README, "Heap snapshots while sampling"); they
/// are handed back to the system here, as a HeapDiff hands back its own.
#[napi]
pub fn stop_sampling(env: Env) -> Result<bool> {
    let stopped = state(&env)?.sampling.stop();
    if stopped {
        malloc_trim();
    }
    Ok(stopped)
}

/// Whether memwatch's sampler runs in this thread: a heap snapshot taken
/// now leaves its names in V8's memory until it stops.
#[napi]
pub fn sampling_running(env: Env) -> Result<bool> {
    Ok(state(&env)?.sampling.running())
}

/// The current profile: live sampled allocations by allocation stack,
/// largest first. An `Error` when sampling is not running, or was stopped
/// by another profiler.
#[napi]
pub fn sampling_profile(env: Env) -> Result<SamplingProfile> {
    let state = state(&env)?;
    match state.sampling.read(&env, now_ms()) {
        Ok(p) => Ok(SamplingProfile::from(&p)),
        Err(m) => Err(throw(&env, Throw::Plain, &m)),
    }
}

/// Writes the current profile to `path` in pprof's format (gzipped
/// `profile.proto`) and returns it, as `samplingProfile()` would have.
#[napi(ts_args_type = "path: string")]
pub fn write_profile(env: Env, path: Unknown) -> Result<SamplingProfile> {
    if path.get_type()? != ValueType::String {
        return Err(throw(
            &env,
            Throw::Type,
            &format!(
                "memwatch.writeProfile(path): path must be a string, got {}",
                describe(&path)
            ),
        ));
    }
    let file = path.coerce_to_string()?.into_utf8()?.as_str()?.to_owned();
    if file.is_empty() || file.contains('\0') {
        return Err(throw(
            &env,
            Throw::Type,
            &format!(
                "memwatch.writeProfile(path): path must be a file name, got {}",
                describe(&path)
            ),
        ));
    }
    let state = state(&env)?;
    let profile = state
        .sampling
        .read(&env, now_ms())
        .map_err(|m| throw(&env, Throw::Plain, &m))?;
    std::fs::write(&file, pprof::gzipped(&profile)).map_err(|e| {
        throw(
            &env,
            Throw::Plain,
            &format!("memwatch.writeProfile(path): cannot write {file}: {e}"),
        )
    })?;
    Ok(SamplingProfile::from(&profile))
}

/// Reads one argument of `diffProfiles()` back into sites, checking its
/// shape as it goes; a `TypeError` naming the first bad field.
struct ProfileReader<'a> {
    env: &'a Env,
}

impl ProfileReader<'_> {
    fn bad(&self, what: &str, wanted: &str, value: &Unknown) -> napi::Error {
        throw(
            self.env,
            Throw::Type,
            &format!(
                "memwatch.diffProfiles(before, after): {what} must be {wanted}, got {}",
                describe(value)
            ),
        )
    }

    fn object<'v>(&self, what: &str, value: &Unknown<'v>) -> Result<Object<'v>> {
        if value.get_type()? != ValueType::Object || value.is_array()? {
            return Err(self.bad(what, "an object", value));
        }
        value.coerce_to_object()
    }

    fn field<'v>(&self, object: &Object<'v>, name: &str) -> Result<Unknown<'v>> {
        object.get_named_property::<Unknown>(name)
    }

    fn number(&self, what: &str, value: &Unknown) -> Result<f64> {
        if value.get_type()? != ValueType::Number {
            return Err(self.bad(what, "a number", value));
        }
        value.coerce_to_number()?.get_double()
    }

    fn text(&self, what: &str, value: &Unknown) -> Result<String> {
        if value.get_type()? != ValueType::String {
            return Err(self.bad(what, "a string", value));
        }
        Ok(value.coerce_to_string()?.into_utf8()?.as_str()?.to_owned())
    }

    fn array<'v>(&self, what: &str, value: &Unknown<'v>) -> Result<(Object<'v>, u32)> {
        if !value.is_array()? {
            return Err(self.bad(what, "an array", value));
        }
        let a = value.coerce_to_object()?;
        let n = a.get_array_length()?;
        Ok((a, n))
    }

    fn profile(&self, name: &str, value: &Unknown) -> Result<SamplingProfile> {
        if value.get_type()? != ValueType::Object || value.is_array()? {
            return Err(self.bad(name, "a profile from memwatch.samplingProfile()", value));
        }
        let p = value.coerce_to_object()?;
        let time = self.field(&p, "time")?;
        if !time.is_date()? {
            return Err(self.bad(&format!("{name}.time"), "a Date", &time));
        }
        let ms = time.coerce_to_number()?.get_double()?;
        let sites_value = self.field(&p, "sites")?;
        let (sites, n) = self.array(&format!("{name}.sites"), &sites_value)?;
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            let at = format!("{name}.sites[{i}]");
            let site_value: Unknown = sites.get_element(i)?;
            let site = self.object(&at, &site_value)?;
            let frames_value = self.field(&site, "frames")?;
            let (frames, m) = self.array(&format!("{at}.frames"), &frames_value)?;
            let mut fs = Vec::with_capacity(m as usize);
            for k in 0..m {
                let fat = format!("{at}.frames[{k}]");
                let frame_value: Unknown = frames.get_element(k)?;
                let f = self.object(&fat, &frame_value)?;
                fs.push(SamplingFrame {
                    function: self
                        .text(&format!("{fat}.function"), &self.field(&f, "function")?)?,
                    script: self.text(&format!("{fat}.script"), &self.field(&f, "script")?)?,
                    line: self.number(&format!("{fat}.line"), &self.field(&f, "line")?)?,
                    column: self.number(&format!("{fat}.column"), &self.field(&f, "column")?)?,
                });
            }
            out.push(SamplingSite {
                frames: fs,
                bytes: self.number(&format!("{at}.bytes"), &self.field(&site, "bytes")?)?,
                count: self.number(&format!("{at}.count"), &self.field(&site, "count")?)?,
            });
        }
        let number_or = |key: &str| -> Result<f64> {
            let v = self.field(&p, key)?;
            Ok(if v.get_type()? == ValueType::Number {
                v.coerce_to_number()?.get_double()?
            } else {
                0.0
            })
        };
        Ok(SamplingProfile {
            time: date(ms),
            interval_bytes: number_or("intervalBytes")?,
            stack_depth: number_or("stackDepth")?,
            total: SamplingTotal {
                bytes: 0.0,
                count: 0.0,
            },
            sites: out,
        })
    }
}

/// How each allocation site changed from `before` to `after` (two results
/// of `samplingProfile()`), the most grown first.
#[napi(ts_args_type = "before: SamplingProfile, after: SamplingProfile")]
pub fn diff_profiles(env: Env, before: Unknown, after: Unknown) -> Result<SamplingDiff> {
    let reader = ProfileReader { env: &env };
    let b = reader.profile("before", &before)?;
    let a = reader.profile("after", &after)?;
    Ok(SamplingDiff::between(&b, &a))
}
