//! HeapDiff: snapshot source → compact records → diff/format.
//!
//! - sources: [`v8_source`] (V8's heap profiler, in process) and
//!   [`json_source`] (the JSON snapshot format, streamed from a file);
//! - [`records`]: the compact per-node form both produce;
//! - [`diff`]: merge-join by object id and memwatch's output.
//!
//! [`js`] is the N-API face used by `heap-diff.js`. Only it and
//! [`v8_source`] touch N-API or V8; the rest is plain data, unit-tested.

pub mod diff;
pub mod js;
pub mod json_source;
pub mod records;
pub mod v8_source;

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use crate::v8::{self, HeapProfilerApi};

/// Constructor names of the HeapDiff's own objects: never counted.
pub const OWN_CLASSES: [&str; 2] = ["HeapDiff", js::NATIVE_CLASS];

/// Which snapshot source serves HeapDiffs in one isolate.
#[derive(Clone)]
pub enum Source {
    /// V8's heap profiler.
    V8(HeapProfilerApi, v8::Isolate),
    /// `v8.writeHeapSnapshot()` and the JSON reader; why V8's is unusable.
    Json(String),
}

/// HeapDiff's per-isolate state (inside the isolate's `IsolateState`).
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
}

impl PerIsolate {
    /// The source for this isolate, chosen once: V8's heap profiler when the
    /// V8 backend is on (`isolate`) and every profiler symbol resolves for
    /// this Node major, else the JSON snapshot.
    pub fn source(&self, node_major: u32, isolate: Option<v8::Isolate>) -> Source {
        self.source
            .get_or_init(|| {
                let Some(isolate) = isolate else {
                    return Source::Json("the V8 backend is not in use".into());
                };
                let Some(layout) = v8::layout_for(node_major) else {
                    return Source::Json(format!(
                        "Node {node_major} is not in the verified V8 table"
                    ));
                };
                match HeapProfilerApi::resolve(layout) {
                    Ok(api) => Source::V8(api, isolate),
                    Err(missing) => {
                        Source::Json(format!("this node binary does not export {missing}"))
                    }
                }
            })
            .clone()
    }

    /// The tally of live native HeapDiffs, shared with each of them.
    fn live(&self) -> Rc<Live> {
        Rc::clone(&self.live)
    }
}
