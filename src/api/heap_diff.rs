//! HeapDiff's native class, wrapped by `lib/heap-diff.js`.
//!
//! The JS `HeapDiff` creates this object first and only then captures
//! "before", and captures return nothing until the diff is complete, so no
//! JS value made by the HeapDiff is born between the two snapshots.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::ObjectFinalize;
use napi::bindgen_prelude::{JsObjectValue, Object, Unknown};
use napi::{Env, JsValue, Result, ValueType};
use napi_derive::napi;

use super::census::failure_message;
use super::describe::describe;
use super::{state, throw, Throw};
use crate::ffi::heap_profiler::EdgeApi;
use crate::ffi::malloc_trim;
use crate::heap_diff::census::{self, Census};
use crate::heap_diff::files::{diff_files, diff_files_explained};
use crate::heap_diff::retainers::{limits, Ask, MAX_GROUPS, MAX_GROUP_CHARS, MAX_PATHS};
use crate::heap_diff::session::{Captured, Session};
use crate::heap_diff::{v8_source, Source, OWN_CLASSES};
use crate::isolate::IsolateState;
use crate::payload::{HeapDiffLive, HeapDiffResult, JsonFiles};

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Retainer paths per group a request may ask for (`end({ retainers })`,
/// `diffSnapshotFiles`), for the JS side's own checks.
#[napi]
pub const MAX_RETAINER_PATHS: u32 = MAX_PATHS;

/// Groups a request may name (`end({ groups })`, `diffSnapshotFiles`).
#[napi]
pub const MAX_RETAINER_GROUPS: u32 = MAX_GROUPS as u32;

/// Longest group name, in UTF-16 code units (JS string length), a request
/// may name.
#[napi]
pub const MAX_GROUP_NAME_CHARS: u32 = MAX_GROUP_CHARS as u32;

/// Drops V8's table of heap snapshot object ids in this thread (about 90
/// bytes per object of the largest heap snapshotted, kept for the thread's
/// lifetime otherwise) and hands the memory back. Later snapshots number
/// objects afresh, so no snapshot taken after can be matched by id with
/// one taken before. An `Error` while a HeapDiff of this thread holds its
/// first snapshot (its `end()` matches by these ids), or where HeapDiffs
/// do not use V8's heap profiler in process.
#[napi]
pub fn clear_heap_snapshot_ids(env: Env) -> Result<()> {
    let state = state(&env)?;
    let open = state.heap_diff.live().open.get();
    if open > 0 {
        let which = if open == 1 {
            "a HeapDiff of this thread is".to_string()
        } else {
            format!("{open} HeapDiffs of this thread are")
        };
        return Err(throw(
            &env,
            Throw::Plain,
            &format!(
                "memwatch.clearHeapSnapshotIds(): {which} still open (made, not ended) and will match objects by these ids; end it first"
            ),
        ));
    }
    let (api, isolate) = match source(&state) {
        Source::V8(api, isolate) => (api, isolate),
        Source::Json { reason, .. } => {
            return Err(throw(
                &env,
                Throw::Plain,
                &format!(
                    "memwatch.clearHeapSnapshotIds() needs V8's heap profiler in process, and HeapDiffs in this thread use the JSON snapshot source ({reason})"
                ),
            ))
        }
    };
    if !api.clear_object_ids(isolate) {
        return Err(throw(
            &env,
            Throw::Plain,
            "memwatch.clearHeapSnapshotIds(): V8 has no heap profiler in this thread",
        ));
    }
    malloc_trim();
    Ok(())
}

/// Diffs two `.heapsnapshot` files by object id, streaming both (the
/// `memwatch-rs diff` command): memwatch's diff shape, each snapshot's time
/// its file's modification time. With `retainers` (1 to 100), each of the 5
/// groups with the most new nodes, or each of `groups` (1 to 10 names, only
/// with `retainers`) that has new nodes, also gets up to that many retainer
/// paths (the "after" file is then held as records and edges, and its
/// string table read a second time). Throws an `Error` whose one-line
/// message names the file and what is wrong with it (missing, a directory,
/// empty, not a heap snapshot, truncated), or a `TypeError` / `RangeError`
/// for `groups` without `retainers` or out of bounds. Synchronous: meant for
/// a process that does nothing else meanwhile.
#[napi]
pub fn diff_snapshot_files(
    env: Env,
    before: String,
    after: String,
    retainers: Option<u32>,
    groups: Option<Vec<String>>,
) -> Result<HeapDiffResult> {
    const API: &str = "diffSnapshotFiles";
    if let Some(names) = &groups {
        if retainers.is_none() {
            return Err(throw(
                &env,
                Throw::Type,
                &format!("{API}: groups needs retainers, the number of paths per group"),
            ));
        }
        let fault = limits::count_fault(names.len())
            .map(|got| format!("groups must be {}, got {got}", limits::wanted()));
        let fault = fault.or_else(|| {
            names.iter().enumerate().find_map(|(i, g)| {
                limits::name_fault(g.encode_utf16().count())
                    .map(|got| format!("groups[{i}] must be {}, got {got}", limits::wanted_name()))
            })
        });
        if let Some(fault) = fault {
            return Err(throw(&env, Throw::Range, &format!("{API}: {fault}")));
        }
    }
    let (before, after) = (Path::new(&before), Path::new(&after));
    match retainers {
        None => diff_files(before, after),
        Some(n) => {
            let ask = Ask {
                n: n.clamp(1, MAX_PATHS),
                groups,
            };
            diff_files_explained(before, after, &ask)
        }
    }
    .map(HeapDiffResult::from)
    .map_err(|m| throw(&env, Throw::Plain, &m))
}

fn source(state: &IsolateState) -> Source {
    state.heap_diff.source(state.node_major, state.v8_isolate())
}

/// The native half of a HeapDiff: holds the "before" records between the
/// two captures. Its memory is reported to V8 as external memory, and freed
/// when the diff ends or the object is garbage-collected.
#[napi(custom_finalize)]
pub struct NativeHeapDiff {
    session: Session,
    /// Bytes reported to V8 as external memory.
    external: i64,
    /// A census diff's "before" census.
    census_before: Option<Census>,
    /// The groups the last `endOptions()` named, for the capture after it.
    groups: Option<Vec<String>>,
}

#[napi]
impl NativeHeapDiff {
    /// Native HeapDiffs alive in this thread (for tests).
    #[napi]
    pub fn live(env: Env) -> Result<HeapDiffLive> {
        let live = state(&env)?.heap_diff.live();
        Ok(HeapDiffLive {
            count: live.count.get(),
            bytes: live.bytes.get() as f64,
        })
    }

    /// Takes one V8 heap snapshot and deletes it unread, with its GCs
    /// suppressed; returns its node count (the floor of an in-process diff,
    /// for the benchmark).
    #[napi]
    pub fn snapshot_floor(env: Env) -> Result<u32> {
        let state = state(&env)?;
        match source(&state) {
            Source::V8(api, isolate) => state
                .suppressed(|| v8_source::bare_snapshot(&api, isolate))
                .map(|n| n as u32)
                .ok_or_else(|| throw(&env, Throw::Plain, "V8 returned no heap snapshot")),
            Source::Json { reason, .. } => Err(throw(
                &env,
                Throw::Plain,
                &format!("no V8 heap profiler: {reason}"),
            )),
        }
    }

    /// What `HeapDiff#end(options)` asks for: the number of retainer paths
    /// per group (`options.retainers`), or null. Only an object with a
    /// `retainers` property asks for anything (`end()` ignored its
    /// arguments, as memwatch did); its value must be an integer from 1 to
    /// 100 (`TypeError` / `RangeError` naming it otherwise).
    #[napi(ts_args_type = "options?: unknown")]
    pub fn retainers_option(env: Env, options: Unknown) -> Result<Option<u32>> {
        let Some(object) = options_object(&options)? else {
            return Ok(None);
        };
        retainers_of(&env, &object)
    }

    /// What `HeapDiff#end(options)` asks for, read once before anything
    /// happens: returns `options.retainers` as `retainersOption()` does,
    /// and keeps `options.groups` (1 to 10 group names, only with
    /// `retainers`) for the capture that follows. Throws a `TypeError` /
    /// `RangeError` naming the option that is wrong and keeps nothing then.
    /// Returns a number or null: no JS object is made between the
    /// HeapDiff's snapshots.
    #[napi(ts_args_type = "options?: unknown")]
    pub fn end_options(&mut self, env: Env, options: Unknown) -> Result<Option<u32>> {
        self.groups = None;
        let Some(object) = options_object(&options)? else {
            return Ok(None);
        };
        let retainers = retainers_of(&env, &object)?;
        if !object.has_property("groups")? {
            return Ok(retainers);
        }
        let value: Unknown = object.get_named_property("groups")?;
        if retainers.is_none() {
            return Err(throw(
                &env,
                Throw::Type,
                "HeapDiff.end(options): groups needs retainers, the number of paths per group (e.g. { retainers: 1, groups: ['Foo'] })",
            ));
        }
        self.groups = Some(groups_of(&env, &value)?);
        Ok(retainers)
    }

    /// Takes no snapshot: `captureV8()` / `captureJson()` do.
    #[napi(constructor)]
    pub fn new(env: Env) -> Result<Self> {
        Ok(NativeHeapDiff {
            session: Session::new(state(&env)?.heap_diff.live()),
            external: 0,
            census_before: None,
            groups: None,
        })
    }

    /// Takes a heap census instead of a snapshot: the first call records
    /// "before" and returns null, the second returns the census diff
    /// (`census: true`).
    #[napi]
    pub fn capture_census(&mut self, env: Env) -> Result<Option<HeapDiffResult>> {
        let what = match self.census_before {
            None => "new HeapDiff({ census: true })",
            Some(_) => "HeapDiff#end()",
        };
        let after = state(&env)?
            .census(&env)
            .map_err(|failure| throw(&env, Throw::Plain, &failure_message(what, &failure)))?;
        let Some(before) = self.census_before.take() else {
            self.census_before = Some(after);
            return Ok(None);
        };
        let mut result = HeapDiffResult::from(census::diff(&before, &after, &OWN_CLASSES));
        result.census = Some(true);
        Ok(Some(result))
    }

    /// Takes the next snapshot in process through V8's heap profiler: the
    /// first call records "before" and returns null, the second returns the
    /// diff, with up to `retainers` paths for each group that grew most
    /// when given (from `endOptions()`), or for each group it named.
    #[napi]
    pub fn capture_v8(
        &mut self,
        env: Env,
        retainers: Option<u32>,
    ) -> Result<Option<HeapDiffResult>> {
        self.session
            .check_open()
            .map_err(|m| throw(&env, Throw::Plain, &m))?;
        let state = state(&env)?;
        let Source::V8(api, isolate) = source(&state) else {
            return Err(throw(
                &env,
                Throw::Plain,
                "V8's heap profiler is not available in this thread",
            ));
        };
        let captured = match retainers {
            None => self.session.capture_v8(now_ms(), |groups, sink| {
                state.suppressed(|| v8_source::capture(&env, &api, isolate, groups, sink))
            }),
            Some(n) => {
                let edges = EdgeApi::resolve().map_err(|missing| {
                    throw(
                        &env,
                        Throw::Plain,
                        &format!(
                            "HeapDiff.end(options): retainer paths need V8's heap graph edges, and this node binary does not export {missing}"
                        ),
                    )
                })?;
                let ask = Ask {
                    n: n.clamp(1, MAX_PATHS),
                    groups: self.groups.take(),
                };
                self.session.capture_v8_explained(|groups, before| {
                    state.suppressed(|| {
                        v8_source::capture_explained(
                            &env,
                            &api,
                            &edges,
                            isolate,
                            groups,
                            before,
                            now_ms(),
                            &ask,
                        )
                    })
                })
            }
        };
        self.finish(&env, captured)
    }

    /// The two snapshot file names for `base` (flat strings made natively);
    /// the HeapDiff deletes what is left of them when it is dropped.
    #[napi]
    pub fn json_files(&mut self, base: String) -> JsonFiles {
        let [before, after] = self.session.json_files(&base);
        JsonFiles { before, after }
    }

    /// Call right before `v8.writeHeapSnapshot()`: notes the time and stops
    /// the snapshot's GCs from being reported until `captureJson()` or
    /// `abortJson()`.
    #[napi]
    pub fn begin_json(&mut self, env: Env) -> Result<()> {
        self.session
            .begin_json(now_ms())
            .map_err(|m| throw(&env, Throw::Plain, &m))?;
        state(&env)?.set_suppressed(true);
        Ok(())
    }

    /// Reads the snapshot `v8.writeHeapSnapshot()` wrote at `path` (and
    /// deletes the file): the first call records "before" and returns null,
    /// the second returns the diff, with up to `retainers` paths for each
    /// group that grew most when given, or for each group `endOptions()`
    /// named.
    #[napi]
    pub fn capture_json(
        &mut self,
        env: Env,
        path: String,
        retainers: Option<u32>,
    ) -> Result<Option<HeapDiffResult>> {
        state(&env)?.set_suppressed(false);
        let ask = retainers.map(|n| Ask {
            n: n.clamp(1, MAX_PATHS),
            groups: self.groups.take(),
        });
        let captured = self.session.capture_json(&path, now_ms(), ask.as_ref());
        self.finish(&env, captured)
    }

    /// Ends a `beginJson()` whose snapshot was not written; deletes `path`
    /// if it exists.
    #[napi]
    pub fn abort_json(&mut self, env: Env, path: String) -> Result<()> {
        state(&env)?.set_suppressed(false);
        self.session.abort_json(&path);
        Ok(())
    }
}

/// `options` as an object if it can ask for anything (an object or a
/// function); anything else is ignored, as memwatch ignored `end()`'s
/// arguments.
fn options_object<'a>(options: &Unknown<'a>) -> Result<Option<Object<'a>>> {
    let t = options.get_type()?;
    if !matches!(t, ValueType::Object | ValueType::Function) {
        return Ok(None);
    }
    Ok(Some(options.coerce_to_object()?))
}

/// `options.retainers`: absent, or an integer from 1 to [`MAX_PATHS`].
fn retainers_of(env: &Env, object: &Object) -> Result<Option<u32>> {
    if !object.has_property("retainers")? {
        return Ok(None);
    }
    // Read once: what is checked is what is used.
    let value: Unknown = object.get_named_property("retainers")?;
    let want = format!("an integer from 1 to {MAX_PATHS}");
    let message = |v: &Unknown| {
        format!(
            "HeapDiff.end(options): retainers must be {want}, got {}",
            describe(v)
        )
    };
    if value.get_type()? != ValueType::Number {
        return Err(throw(env, Throw::Type, &message(&value)));
    }
    let x = value.coerce_to_number()?.get_double()?;
    if x.fract() != 0.0 {
        return Err(throw(env, Throw::Type, &message(&value)));
    }
    if !(1.0..=f64::from(MAX_PATHS)).contains(&x) {
        return Err(throw(env, Throw::Range, &message(&value)));
    }
    Ok(Some(x as u32))
}

/// `options.groups`: an array of 1 to [`MAX_GROUPS`] group names, each a
/// non-empty string of at most [`MAX_GROUP_CHARS`] characters. Its length
/// is checked before any element is read.
fn groups_of(env: &Env, value: &Unknown) -> Result<Vec<String>> {
    let message = |got: &str| {
        format!(
            "HeapDiff.end(options): groups must be {}, got {got}",
            limits::wanted()
        )
    };
    if value.get_type()? != ValueType::Object || !value.is_array()? {
        return Err(throw(env, Throw::Type, &message(&describe(value))));
    }
    let array: Object = value.coerce_to_object()?;
    let len = array.get_array_length()?;
    if let Some(got) = limits::count_fault(len as usize) {
        return Err(throw(env, Throw::Range, &message(&got)));
    }
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let item: Unknown = array.get_element(i)?;
        let at = |got: String| {
            format!(
                "HeapDiff.end(options): groups[{i}] must be {}, got {got}",
                limits::wanted_name()
            )
        };
        if item.get_type()? != ValueType::String {
            return Err(throw(env, Throw::Type, &at(describe(&item))));
        }
        let s = item.coerce_to_string()?;
        if let Some(got) = limits::name_fault(s.utf16_len()?) {
            return Err(throw(env, Throw::Range, &at(got)));
        }
        out.push(s.into_utf8()?.as_str()?.to_owned());
    }
    Ok(out)
}

impl NativeHeapDiff {
    /// Reports the session's memory to V8 and shapes the result.
    fn finish(
        &mut self,
        env: &Env,
        captured: std::result::Result<Captured, String>,
    ) -> Result<Option<HeapDiffResult>> {
        let held = self.session.held_bytes();
        let change = held - self.external;
        if change != 0 && env.adjust_external_memory(change).is_ok() {
            self.external = held;
        }
        match captured {
            Ok(Captured::Before) => Ok(None),
            Ok(Captured::Diff(d)) => Ok(Some(HeapDiffResult::from(d))),
            Err(message) => Err(throw(env, Throw::Plain, &message)),
        }
    }
}

impl ObjectFinalize for NativeHeapDiff {
    fn finalize(self, env: Env) -> Result<()> {
        if self.external != 0 {
            let _ = env.adjust_external_memory(-self.external);
        }
        Ok(())
    }
}
