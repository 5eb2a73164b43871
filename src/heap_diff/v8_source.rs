//! Snapshot source for V8's in-process heap profiler: take a snapshot, walk
//! its nodes with an index loop (never through the graph, so depth costs
//! nothing), and delete it before returning.

use napi::Env;

use super::diff::DiffBuilder;
use super::records::{is_unstable_id, kind, Groups, Record};
use crate::ffi::gc::Isolate;
use crate::ffi::heap_profiler::{HeapProfilerApi, NameScope};

/// Names are read inside N-API handle scopes of this many nodes, so a
/// million names never pile up as live handles.
const NAME_BATCH: usize = 8192;

/// Where [`capture`] puts records: a `Vec` (the "before" census) or a
/// [`DiffBuilder`] (the "after" snapshot, diffed while read).
pub trait Sink {
    /// Called once with the node count before any record.
    fn reserve(&mut self, _nodes: usize) {}
    /// One node, with the group table as it is at that node.
    fn add(&mut self, groups: &Groups, record: Record);
}

impl Sink for Vec<Record> {
    fn reserve(&mut self, nodes: usize) {
        self.reserve_exact(nodes);
    }
    fn add(&mut self, _: &Groups, record: Record) {
        self.push(record);
    }
}

impl Sink for DiffBuilder<'_> {
    fn add(&mut self, groups: &Groups, record: Record) {
        DiffBuilder::add(self, groups, record);
    }
}

/// Takes a snapshot of `isolate` and hands `sink` one record per node, in
/// snapshot order (excluded groups included). Names are read for objects (their group) and for nodes
/// without a stable id (their match key). The snapshot is deleted before
/// this returns. Returns the node count, or `None` if V8 returned no snapshot
/// or a name scope could not be opened.
pub fn capture(
    env: &Env,
    api: &HeapProfilerApi,
    isolate: Isolate,
    groups: &mut Groups,
    sink: &mut dyn Sink,
) -> Option<usize> {
    let snapshot = api.take_snapshot(isolate)?;
    let count = snapshot.node_count();
    sink.reserve(count);
    let mut name = Vec::with_capacity(256);
    // Consecutive objects often share a constructor: remember the last one.
    let mut last: Option<(Vec<u8>, u32)> = None;
    let mut scope: Option<NameScope<'_>> = None;
    let mut named_in_scope = 0usize;
    for node in snapshot.nodes() {
        let k = node.kind();
        let id = node.id();
        let unstable = is_unstable_id(id);
        let group = if k == kind::OBJECT || unstable {
            if named_in_scope == NAME_BATCH {
                scope = None;
                named_in_scope = 0;
            }
            if scope.is_none() {
                scope = Some(NameScope::open(env)?);
            }
            named_in_scope += 1;
            if !node.read_name(scope.as_ref()?, &mut name) {
                name.clear();
            }
            let group = if k == kind::OBJECT {
                match &mut last {
                    Some((n, g)) if *n == name => *g,
                    _ => {
                        let g = groups.intern(&name);
                        match &mut last {
                            Some((n, lg)) => {
                                n.clear();
                                n.extend_from_slice(&name);
                                *lg = g;
                            }
                            None => last = Some((name.clone(), g)),
                        }
                        g
                    }
                }
            } else {
                groups.for_kind(k)
            };
            if unstable {
                groups.intern_keyed(group, &name)
            } else {
                group
            }
        } else {
            groups.for_kind(k)
        };
        let size = node.self_size();
        sink.add(groups, Record { id, group, size });
    }
    drop(scope);
    drop(snapshot);
    Some(count)
}

/// Takes a snapshot and deletes it without reading it (the floor that any
/// in-process diff pays twice). Returns its node count.
pub fn bare_snapshot(api: &HeapProfilerApi, isolate: Isolate) -> Option<usize> {
    api.take_snapshot(isolate).map(|s| s.node_count())
}
