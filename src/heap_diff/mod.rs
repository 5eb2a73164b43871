//! Heap questions: what changed (HeapDiff from heap snapshots, or a heap
//! census without one) and why it is alive (retainer paths).
//!
//! One pipeline: a snapshot source ([`v8_source`]: V8's heap profiler in
//! process; [`json_source`]: the `.heapsnapshot` format, streamed) → compact
//! per-node [`records`] → [`diff`] by object id → the result; on request,
//! [`retainers`] explains the groups that grew most from the "after"
//! snapshot's edges. [`session`] holds one HeapDiff between its two
//! snapshots; [`files`] diffs snapshot files. Only [`v8_source`] reaches
//! into V8 (through `crate::ffi`); the rest is plain data, unit-tested.
//! [`census`] names, diffs and compares heap censuses (counts and sizes per
//! constructor, taken by `crate::ffi::census` without a snapshot).

pub mod census;
pub mod diff;
pub mod files;
pub mod json_source;
pub mod records;
pub mod retainers;
pub mod session;
pub mod v8_source;

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use crate::env_flags;
use crate::ffi::gc::Isolate;
use crate::ffi::heap_profiler::HeapProfilerApi;
use crate::ffi::layout_for;

/// JS class name of the native HeapDiff object (excluded from diffs by name).
pub const NATIVE_CLASS: &str = "NativeHeapDiff";

/// Constructor names of the HeapDiff's own objects: never counted.
pub const OWN_CLASSES: [&str; 2] = ["HeapDiff", NATIVE_CLASS];

/// Which snapshot source serves HeapDiffs in one isolate.
#[derive(Clone)]
pub enum Source {
    /// V8's heap profiler.
    V8(HeapProfilerApi, Isolate),
    /// `v8.writeHeapSnapshot()` and the JSON reader; why V8's is not used,
    /// and whether that was asked for (`MEMWATCH_HEAPDIFF_SOURCE=json`).
    Json { reason: String, requested: bool },
}

/// HeapDiff's per-isolate state (inside the isolate's state).
#[derive(Default)]
pub struct PerIsolate {
    source: OnceCell<Source>,
    live: Rc<Live>,
}

/// The native HeapDiffs alive in one isolate.
#[derive(Default)]
pub struct Live {
    /// How many (dropped when their JS object is garbage-collected).
    pub count: Cell<u32>,
    /// Bytes of records they hold.
    pub bytes: Cell<i64>,
    /// How many hold "before" records: taken, not ended, not collected.
    /// Their `end()` matches objects by V8's snapshot ids.
    pub open: Cell<u32>,
}

impl PerIsolate {
    /// The source for this isolate, chosen once: V8's heap profiler when the
    /// V8 backend is on (`isolate`) and every profiler symbol resolves for
    /// this Node major, else the JSON snapshot.
    pub fn source(&self, node_major: u32, isolate: Option<Isolate>) -> Source {
        self.source
            .get_or_init(|| {
                if env_flags::value(env_flags::HEAPDIFF_SOURCE).as_deref() == Some("json") {
                    return Source::Json {
                        reason: format!("{}=json", env_flags::HEAPDIFF_SOURCE),
                        requested: true,
                    };
                }
                let json = |reason: String| Source::Json {
                    reason,
                    requested: false,
                };
                let Some(isolate) = isolate else {
                    return json("the V8 backend is not in use".into());
                };
                let Some(layout) = layout_for(node_major) else {
                    return json(format!("Node {node_major} is not in the verified V8 table"));
                };
                match HeapProfilerApi::resolve(layout) {
                    Ok(api) => Source::V8(api, isolate),
                    Err(missing) => json(format!("this node binary does not export {missing}")),
                }
            })
            .clone()
    }

    /// The tally of live native HeapDiffs, shared with each of them.
    pub fn live(&self) -> Rc<Live> {
        Rc::clone(&self.live)
    }
}
