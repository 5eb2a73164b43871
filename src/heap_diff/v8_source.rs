//! Snapshot source for V8's in-process heap profiler: take a snapshot, walk
//! its nodes with an index loop (never through the graph, so depth costs
//! nothing), and delete it before returning.
//!
//! With retainer paths ([`capture_explained`]) the "after" snapshot lives a
//! little longer: its nodes are diffed while read, then the groups that grew
//! most are explained by a search over its edges (through the FFI, see
//! [`super::retainers`]), and only then is it deleted.

use std::collections::HashMap;

use napi::Env;

use super::diff::{Diff, DiffBuilder};
use super::records::{is_unstable_id, kind, Groups, Record, RecordSet};
use super::retainers::{self, Ask, EdgeName, Graph, Plan, RunIndex, Step};
use crate::ffi::gc::Isolate;
use crate::ffi::heap_profiler::{
    EdgeApi, EdgeNameRead, HeapNode, HeapProfilerApi, HeapSnapshot, NameScope,
};

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

/// Walks every node of `snapshot` in index order and calls
/// `each(groups, index, node, kind, record)`. Names are read for objects
/// (their group) and for nodes without a stable id (their match key).
/// `None` if a name scope could not be opened.
fn node_pass<'s>(
    env: &Env,
    snapshot: &'s HeapSnapshot,
    groups: &mut Groups,
    mut each: impl FnMut(&Groups, usize, &HeapNode<'s>, u32, Record),
) -> Option<()> {
    let mut name = Vec::with_capacity(256);
    // Consecutive objects often share a constructor: remember the last one.
    let mut last: Option<(Vec<u8>, u32)> = None;
    let mut scope: Option<NameScope<'_>> = None;
    let mut named_in_scope = 0usize;
    for i in 0..snapshot.node_count() {
        let Some(node) = snapshot.node(i) else {
            continue;
        };
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
        each(groups, i, &node, k, Record { id, group, size });
    }
    Some(())
}

/// Takes a snapshot of `isolate` and hands `sink` one record per node, in
/// snapshot order (excluded groups included). The snapshot is deleted before
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
    node_pass(env, &snapshot, groups, |groups, _, _, _, record| {
        sink.add(groups, record)
    })?;
    drop(snapshot);
    Some(count)
}

/// Takes the "after" snapshot, diffs it against `before` while reading it,
/// and adds the retainer paths `ask` asks for: up to `ask.n` for each of
/// the groups that grew most, or of the groups it names
/// ([`retainers::pick`]). The snapshot is deleted before this returns.
///
/// Extra memory while it runs: 8 bytes per node for the node addresses
/// (kept as a [`RunIndex`] of about 16 bytes per 12 nodes after the node
/// pass), 5 per node for kinds and groups, 8 per new node, and the
/// search's 12 per node.
#[allow(clippy::too_many_arguments)]
pub fn capture_explained(
    env: &Env,
    api: &HeapProfilerApi,
    edges: &EdgeApi,
    isolate: Isolate,
    groups: &mut Groups,
    before: &RecordSet,
    time_ms: f64,
    ask: &Ask,
) -> Result<Diff, String> {
    let snapshot = api
        .take_snapshot(isolate)
        .ok_or("V8 returned no heap snapshot")?;
    let count = snapshot.node_count();
    let mut builder = DiffBuilder::new(before);
    let mut addrs: Vec<usize> = Vec::with_capacity(count);
    let mut kinds: Vec<u8> = Vec::with_capacity(count);
    let mut node_group: Vec<u32> = Vec::with_capacity(count);
    let mut new_nodes: Vec<(u32, u32)> = Vec::new();
    node_pass(env, &snapshot, groups, |groups, i, node, k, record| {
        let group = groups.reported(record.group);
        if builder.add(groups, record) {
            new_nodes.push((group, i as u32));
        }
        addrs.push(node.address());
        kinds.push(u8::try_from(k).unwrap_or(u8::MAX));
        node_group.push(group);
    })
    .ok_or("could not open a handle scope to read the snapshot")?;
    let mut diff = builder.finish(groups, time_ms);
    let index = RunIndex::build(&addrs);
    drop(addrs);
    if !index.is_usable() {
        return Err("V8's snapshot nodes could not be indexed by address".into());
    }
    let picks = retainers::pick(&diff, groups, &new_nodes, ask);
    drop(new_nodes);
    for p in &picks {
        diff.details[p.detail].retainers = Some(Vec::new());
    }
    if picks.is_empty() {
        return Ok(diff);
    }
    let graph = V8Graph {
        snapshot: &snapshot,
        edges,
        index: &index,
        kinds: &kinds,
        node_group: &node_group,
    };
    let plan = Plan::new(&graph, 0, picks);
    let mut namer = Namer {
        env,
        graph: &graph,
        scope: None,
        in_scope: 0,
        buf: Vec::with_capacity(256),
        node_names: HashMap::new(),
    };
    plan.render(&mut diff, ask.n, |step| namer.label(step));
    drop(namer);
    drop(snapshot);
    Ok(diff)
}

/// A V8 snapshot seen as a [`Graph`]: edges through the FFI, targets mapped
/// to indexes by address.
struct V8Graph<'a> {
    snapshot: &'a HeapSnapshot,
    edges: &'a EdgeApi,
    index: &'a RunIndex,
    kinds: &'a [u8],
    node_group: &'a [u32],
}

impl Graph for V8Graph<'_> {
    fn node_count(&self) -> usize {
        self.kinds.len()
    }

    fn kind(&self, node: u32) -> u32 {
        self.kinds
            .get(node as usize)
            .map_or(kind::HIDDEN, |&k| u32::from(k))
    }

    fn edges(&self, node: u32, f: &mut dyn FnMut(u32, u32, u32)) {
        if let Some(n) = self.snapshot.node(node as usize) {
            n.for_each_edge(self.edges, |t, to, k| {
                if let Some(i) = self.index.get(to) {
                    f(t, i, k);
                }
            });
        }
    }

    /// The groups of both ends and the edge's position: no edge name (V8
    /// would allocate a string for it), but a list's `next` repeats it.
    fn step_key(&self, step: Step) -> u128 {
        let group = |n: u32| u128::from(self.node_group.get(n as usize).copied().unwrap_or(0));
        group(step.from) << 64 | group(step.to) << 32 | u128::from(step.ordinal)
    }
}

/// Names the printed steps, in handle scopes of bounded size.
struct Namer<'a, 'e> {
    env: &'e Env,
    graph: &'a V8Graph<'a>,
    scope: Option<NameScope<'e>>,
    in_scope: usize,
    buf: Vec<u8>,
    node_names: HashMap<u32, String>,
}

impl Namer<'_, '_> {
    fn label(&mut self, step: Step) -> String {
        if self.in_scope >= 1024 {
            self.scope = None;
            self.in_scope = 0;
        }
        if self.scope.is_none() {
            self.scope = NameScope::open(self.env);
        }
        let Some(scope) = self.scope.as_ref() else {
            return "?".into();
        };
        self.in_scope += 1;
        let snapshot = self.graph.snapshot;
        let node = match self.node_names.get(&step.to) {
            Some(n) => n.clone(),
            None => {
                let name = match snapshot.node(step.to as usize) {
                    Some(n) if n.read_name(scope, &mut self.buf) => {
                        String::from_utf8_lossy(&self.buf).into_owned()
                    }
                    _ => String::new(),
                };
                self.node_names.insert(step.to, name.clone());
                name
            }
        };
        let read = snapshot
            .node(step.from as usize)
            .and_then(|n| n.edge_name(self.graph.edges, step.ordinal, scope, &mut self.buf));
        let text;
        let name = match read {
            Some(EdgeNameRead::Number(x)) if x >= 0.0 => EdgeName::Index(x as u64),
            Some(EdgeNameRead::Text) => {
                text = String::from_utf8_lossy(&self.buf).into_owned();
                EdgeName::Str(&text)
            }
            _ => EdgeName::Str(""),
        };
        retainers::step_label(step.from == 0, name, self.graph.kind(step.to), &node)
    }
}

/// Takes a snapshot and deletes it without reading it (the floor that any
/// in-process diff pays twice). Returns its node count.
pub fn bare_snapshot(api: &HeapProfilerApi, isolate: Isolate) -> Option<usize> {
    api.take_snapshot(isolate).map(|s| s.node_count())
}
