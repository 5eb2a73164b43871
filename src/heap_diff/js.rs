//! The N-API face of HeapDiff, wrapped by `heap-diff.js`.
//!
//! The JS `HeapDiff` creates its native object first and only then captures
//! "before", and captures return nothing until the diff is complete, so no JS
//! value made by the HeapDiff is born between the two snapshots.

use std::fs::File;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::ObjectFinalize;
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

use super::diff::{diff, nice_size, Diff, DiffBuilder, Summary};
use super::records::{Census, Groups};
use super::{json_source, v8_source, Live, Source, OWN_CLASSES};
use crate::isolate::IsolateState;

/// JS class name of the native object (excluded from diffs by name).
pub const NATIVE_CLASS: &str = "NativeHeapDiff";

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(Status::GenericFailure, msg.into())
}

fn node_major(env: &Env) -> u32 {
    env.get_node_version().map(|v| v.major).unwrap_or(0)
}

fn source(env: &Env, state: &IsolateState) -> Source {
    state.heap_diff.source(node_major(env), state.v8_isolate())
}

/// Which snapshot source HeapDiff uses in this isolate.
#[napi(object)]
pub struct NativeDiffInfo {
    /// `'v8'` (V8's heap profiler, in process) or `'json'` (`v8.writeHeapSnapshot()` read back).
    pub source: String,
    /// Why the JSON source is used; absent for `'v8'`.
    pub reason: Option<String>,
}

/// Native HeapDiffs alive in this isolate and the bytes they hold.
#[napi(object)]
pub struct NativeDiffLive {
    /// Native HeapDiffs not yet garbage-collected.
    pub count: u32,
    /// Bytes of "before" records they hold (also reported to V8 as external
    /// memory).
    pub bytes: f64,
}

/// Totals of one snapshot.
#[napi(object)]
pub struct NativeDiffTotals {
    /// Nodes counted (the HeapDiff's own objects excluded).
    pub nodes: f64,
    /// Sum of their self sizes, bytes.
    #[napi(js_name = "size_bytes")]
    pub size_bytes: f64,
    /// `size_bytes` in memwatch's human format.
    pub size: String,
    /// When the snapshot was taken, ms since the epoch.
    pub time_ms: f64,
}

/// The change of one group.
#[napi(object)]
pub struct NativeDiffDetail {
    /// Constructor name, or the node kind's name.
    pub what: String,
    /// Bytes allocated minus bytes freed in this group.
    #[napi(js_name = "size_bytes")]
    pub size_bytes: f64,
    /// `size_bytes` in memwatch's human format.
    pub size: String,
    /// Nodes new since "before".
    #[napi(js_name = "+")]
    pub added: f64,
    /// Nodes freed since "before".
    #[napi(js_name = "-")]
    pub freed: f64,
}

/// The change between the snapshots.
#[napi(object)]
pub struct NativeDiffChange {
    /// `after.size_bytes - before.size_bytes`.
    #[napi(js_name = "size_bytes")]
    pub size_bytes: f64,
    /// `size_bytes` in memwatch's human format.
    pub size: String,
    /// Nodes in "before" but not in "after".
    #[napi(js_name = "freed_nodes")]
    pub freed_nodes: f64,
    /// Nodes in "after" but not in "before".
    #[napi(js_name = "allocated_nodes")]
    pub allocated_nodes: f64,
    /// Per-group changes, largest absolute `size_bytes` first.
    pub details: Vec<NativeDiffDetail>,
}

/// A finished diff before `heap-diff.js` gives it memwatch's exact shape.
#[napi(object)]
pub struct NativeDiffOutput {
    pub before: NativeDiffTotals,
    pub after: NativeDiffTotals,
    pub change: NativeDiffChange,
}

fn totals(s: &Summary) -> NativeDiffTotals {
    NativeDiffTotals {
        nodes: s.nodes as f64,
        size_bytes: s.size_bytes as f64,
        size: nice_size(s.size_bytes as i64),
        time_ms: s.time_ms,
    }
}

fn output(d: Diff) -> NativeDiffOutput {
    NativeDiffOutput {
        before: totals(&d.before),
        after: totals(&d.after),
        change: NativeDiffChange {
            size_bytes: d.size_bytes as f64,
            size: nice_size(d.size_bytes),
            freed_nodes: d.freed_nodes as f64,
            allocated_nodes: d.allocated_nodes as f64,
            details: d
                .details
                .into_iter()
                .map(|x| NativeDiffDetail {
                    size: nice_size(x.size_bytes),
                    what: x.what,
                    size_bytes: x.size_bytes as f64,
                    added: x.added as f64,
                    freed: x.freed as f64,
                })
                .collect(),
        },
    }
}

enum Phase {
    Fresh,
    Before(Census),
    Ended,
}

/// Counts one native HeapDiff and its bytes in the isolate's [`Live`]
/// while it exists.
struct LiveToken {
    live: Rc<Live>,
    bytes: i64,
}

impl LiveToken {
    fn new(live: Rc<Live>) -> Self {
        live.count.set(live.count.get() + 1);
        LiveToken { live, bytes: 0 }
    }

    fn set_bytes(&mut self, bytes: i64) {
        let l = &self.live.bytes;
        l.set(l.get() - self.bytes + bytes);
        self.bytes = bytes;
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.set_bytes(0);
        let c = &self.live.count;
        c.set(c.get().saturating_sub(1));
    }
}

/// The native half of a HeapDiff: holds the "before" census between the
/// two captures. Its memory is reported to V8 as external memory, and freed
/// when the diff ends or the object is garbage-collected.
#[napi(custom_finalize)]
pub struct NativeHeapDiff {
    groups: Groups,
    phase: Phase,
    json_started_ms: Option<f64>,
    external: i64,
    live: LiveToken,
    trim_later: Option<DeferredTrim>,
    temp_files: TempFiles,
}

/// Snapshot files handed out by `jsonFiles()` and not deleted yet. Whatever
/// is left when the HeapDiff is dropped (its thread was terminated while a
/// snapshot was being written or read, or it was collected un-ended) is
/// deleted then, so no snapshot stays behind in the temporary directory.
/// Plain file I/O: allowed in a finalizer run inside the GC.
#[derive(Default)]
struct TempFiles(Vec<String>);

impl TempFiles {
    /// Deletes `path` (if it exists) and forgets it.
    fn remove(&mut self, path: &str) {
        let _ = std::fs::remove_file(path);
        self.0.retain(|p| p != path);
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[napi]
impl NativeHeapDiff {
    /// Tells `heap-diff.js` which snapshot source to use.
    #[napi]
    pub fn info(env: Env) -> Result<NativeDiffInfo> {
        let state = crate::state(&env)?;
        Ok(match source(&env, &state) {
            Source::V8(..) => NativeDiffInfo {
                source: "v8".into(),
                reason: None,
            },
            Source::Json(reason) => NativeDiffInfo {
                source: "json".into(),
                reason: Some(reason),
            },
        })
    }

    /// Native HeapDiffs alive in this isolate (internal; for tests).
    #[napi]
    pub fn live(env: Env) -> Result<NativeDiffLive> {
        let live = crate::state(&env)?.heap_diff.live();
        Ok(NativeDiffLive {
            count: live.count.get(),
            bytes: live.bytes.get() as f64,
        })
    }

    /// Takes one V8 heap snapshot and deletes it unread, with its GCs
    /// suppressed; returns its node count (the floor of an in-process diff).
    #[napi]
    pub fn snapshot_floor(env: Env) -> Result<u32> {
        let state = crate::state(&env)?;
        match source(&env, &state) {
            Source::V8(api, isolate) => state
                .suppressed(|| v8_source::bare_snapshot(&api, isolate))
                .map(|n| n as u32)
                .ok_or_else(|| err("V8 returned no heap snapshot")),
            Source::Json(reason) => Err(err(format!("no V8 heap profiler: {reason}"))),
        }
    }

    /// Takes no snapshot: `captureV8()` / `captureJson()` do.
    #[napi(constructor)]
    pub fn new(env: Env) -> Result<Self> {
        let state = crate::state(&env)?;
        Ok(NativeHeapDiff {
            groups: Groups::new(&OWN_CLASSES),
            phase: Phase::Fresh,
            json_started_ms: None,
            external: 0,
            live: LiveToken::new(state.heap_diff.live()),
            trim_later: None,
            temp_files: TempFiles::default(),
        })
    }

    /// Takes the next snapshot in process through V8's heap profiler: the
    /// first call records "before" and returns null, the second returns the
    /// diff.
    #[napi]
    pub fn capture_v8(&mut self, env: Env) -> Result<Option<NativeDiffOutput>> {
        self.check_open()?;
        let state = crate::state(&env)?;
        let Source::V8(api, isolate) = source(&env, &state) else {
            return Err(err("V8's heap profiler is not available in this isolate"));
        };
        let time = now_ms();
        let no_snapshot = || err("V8 returned no heap snapshot");
        match std::mem::replace(&mut self.phase, Phase::Ended) {
            Phase::Fresh => {
                let mut records = Vec::new();
                let captured = state.suppressed(|| {
                    v8_source::capture(&env, &api, isolate, &mut self.groups, &mut records)
                });
                if captured.is_none() {
                    self.phase = Phase::Fresh;
                    return Err(no_snapshot());
                }
                self.keep_before(&env, Census::new(records, &self.groups, time));
                Ok(None)
            }
            Phase::Before(before) => {
                self.trim_later = None;
                // Diffed while read: no second census next to the snapshot.
                let mut builder = DiffBuilder::new(&before);
                let captured = state.suppressed(|| {
                    v8_source::capture(&env, &api, isolate, &mut self.groups, &mut builder)
                });
                release_free_memory();
                if captured.is_none() {
                    self.phase = Phase::Before(before);
                    return Err(no_snapshot());
                }
                let d = builder.finish(&self.groups, time);
                drop(before);
                Ok(Some(self.ended(&env, d)))
            }
            Phase::Ended => Err(err("this HeapDiff has already ended")),
        }
    }

    /// The two snapshot file names for `base`, made here so they are flat
    /// strings: a concatenated JS string would be flattened (replaced) while
    /// the first snapshot holds it and show up in the diff.
    #[napi]
    pub fn json_files(&mut self, base: String) -> Vec<String> {
        let files = vec![
            format!("{base}-before.heapsnapshot"),
            format!("{base}-after.heapsnapshot"),
        ];
        self.temp_files.0.extend(files.iter().cloned());
        files
    }

    /// Call right before `v8.writeHeapSnapshot()`: notes the time and stops
    /// the snapshot's GCs from being reported until `captureJson()` or
    /// `abortJson()`.
    #[napi]
    pub fn begin_json(&mut self, env: Env) -> Result<()> {
        self.check_open()?;
        self.trim_later = None;
        crate::state(&env)?.set_suppressed(true);
        self.json_started_ms = Some(now_ms());
        Ok(())
    }

    /// Reads the snapshot `v8.writeHeapSnapshot()` wrote at `path` (and
    /// deletes the file): the first call records "before" and returns null,
    /// the second returns the diff.
    #[napi]
    pub fn capture_json(&mut self, env: Env, path: String) -> Result<Option<NativeDiffOutput>> {
        let state = crate::state(&env)?;
        state.set_suppressed(false);
        let time = self.json_started_ms.take().unwrap_or_else(now_ms);
        let read = self
            .check_open()
            .and_then(|()| read_json_file(Path::new(&path), &mut self.groups));
        self.temp_files.remove(&path);
        let census = Census::new(read?, &self.groups, time);
        match std::mem::replace(&mut self.phase, Phase::Ended) {
            Phase::Fresh => {
                self.keep_before(&env, census);
                Ok(None)
            }
            Phase::Before(before) => {
                let d = diff(&before, &census, &self.groups);
                drop(before);
                drop(census);
                release_free_memory();
                Ok(Some(self.ended(&env, d)))
            }
            Phase::Ended => Err(err("this HeapDiff has already ended")),
        }
    }

    /// Ends a `beginJson()` whose snapshot was not written; deletes `path`
    /// if it exists.
    #[napi]
    pub fn abort_json(&mut self, env: Env, path: String) -> Result<()> {
        crate::state(&env)?.set_suppressed(false);
        self.json_started_ms = None;
        self.temp_files.remove(&path);
        Ok(())
    }
}

fn read_json_file(path: &Path, groups: &mut Groups) -> Result<Vec<super::records::Record>> {
    let file = File::open(path)
        .map_err(|e| err(format!("cannot open heap snapshot {}: {e}", path.display())))?;
    // The reader buffers on its own (1 MiB reads).
    json_source::read_records(file, groups).map_err(|e| err(format!("{}: {e}", path.display())))
}

impl NativeHeapDiff {
    fn check_open(&self) -> Result<()> {
        match self.phase {
            Phase::Ended => Err(err("this HeapDiff has already ended")),
            _ => Ok(()),
        }
    }

    fn account(&mut self, env: &Env, bytes: i64) {
        let change = bytes - self.external;
        if change != 0 && env.adjust_external_memory(change).is_ok() {
            self.external = bytes;
            self.live.set_bytes(bytes);
        }
    }

    fn keep_before(&mut self, env: &Env, census: Census) {
        let bytes = (census.heap_bytes() + self.groups.heap_bytes()) as i64;
        self.phase = Phase::Before(census);
        self.account(env, bytes);
        self.trim_later = DeferredTrim::after(TRIM_DELAY);
    }

    fn ended(&mut self, env: &Env, d: Diff) -> NativeDiffOutput {
        self.phase = Phase::Ended;
        self.groups = Groups::new(&[]);
        self.account(env, 0);
        output(d)
    }
}

/// A deleted heap snapshot leaves its memory (over a gigabyte for a million
/// objects) free but held by the C allocator. Handing it back to the OS
/// after the last snapshot keeps the process from staying that much bigger.
fn release_free_memory() {
    crate::v8::malloc_trim();
}

/// How long after the first snapshot its leftover memory is handed back to
/// the OS if `end()` has not come yet.
///
/// Trimming right away would keep the process small between the snapshots
/// (and the peak ~2% lower) but makes the second snapshot fault all that
/// memory back in: measured +20% time for a 1M-object heap. A diff ended
/// within the delay (tests, leak-test loops) pays nothing; a long-running
/// one (a service diffed over minutes) holds the memory for this long only.
const TRIM_DELAY: Duration = Duration::from_millis(1000);

/// A `malloc_trim` on a helper thread after a delay, cancelled when dropped
/// (the thread then exits without trimming).
struct DeferredTrim {
    cancelled: Arc<(Mutex<bool>, Condvar)>,
}

impl DeferredTrim {
    fn after(delay: Duration) -> Option<DeferredTrim> {
        let cancelled = Arc::new((Mutex::new(false), Condvar::new()));
        let theirs = Arc::clone(&cancelled);
        std::thread::Builder::new()
            .name("memwatch-trim".into())
            .spawn(move || {
                let (flag, wake) = &*theirs;
                let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
                let (guard, _) = wake
                    .wait_timeout_while(guard, delay, |cancelled| !*cancelled)
                    .unwrap_or_else(|e| e.into_inner());
                if !*guard {
                    drop(guard);
                    crate::v8::malloc_trim();
                }
            })
            .ok()?;
        Some(DeferredTrim { cancelled })
    }
}

impl Drop for DeferredTrim {
    fn drop(&mut self) {
        let (flag, wake) = &*self.cancelled;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_one();
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
