//! V8's heap profiler: take a heap snapshot, read its nodes, delete it.
//!
//! A separate symbol set from [`GcApi`](super::GcApi): a node binary that
//! lacks one of these symbols loses only the in-process snapshot source (the
//! caller falls back to the JSON snapshot), never the GC hooks.
//!
//! Edges ([`EdgeApi`], for retainer paths) are a set of their own too: a
//! binary without them keeps in-process snapshots and loses only the paths.
//!
//! Node names are read through N-API: `HeapGraphNode::GetName()` returns a
//! `v8::Local<v8::String>`, and Node's own N-API implementation converts a
//! `napi_value` to and from a `v8::Local` by copying its single pointer. That
//! is an implementation detail of Node, not a contract, so it stays here. The
//! alternative (V8's `HandleScope` and `String::WriteUtf8`) is not exported
//! by every verified major: Node 26 inlines the `HandleScope` constructor and
//! removed `WriteUtf8`.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

use napi::sys;

use super::gc::{Isolate, RawIsolate};
use super::{resolve, Layout, Missing};

type RawProfiler = *mut c_void;
type RawSnapshot = *const c_void;
type RawNode = *const c_void;
// `HeapProfiler* Isolate::GetHeapProfiler()`
type GetHeapProfilerFn = unsafe extern "C" fn(RawIsolate) -> RawProfiler;
// `const HeapSnapshot* HeapProfiler::TakeHeapSnapshot(ActivityControl*,
//  ObjectNameResolver* / ContextNameResolver*, bool hide_internals,
//  bool capture_numeric_value)`
type TakeHeapSnapshotFn =
    unsafe extern "C" fn(RawProfiler, *mut c_void, *mut c_void, bool, bool) -> RawSnapshot;
// `void HeapProfiler::ClearObjectIds()`
type ClearObjectIdsFn = unsafe extern "C" fn(RawProfiler);
// `int HeapSnapshot::GetNodesCount() const`
type GetNodesCountFn = unsafe extern "C" fn(RawSnapshot) -> c_int;
// `const HeapGraphNode* HeapSnapshot::GetNode(int) const`
type GetNodeFn = unsafe extern "C" fn(RawSnapshot, c_int) -> RawNode;
// `void HeapSnapshot::Delete()`
type DeleteFn = unsafe extern "C" fn(RawSnapshot);
// `HeapGraphNode::Type HeapGraphNode::GetType() const` (an `int` enum)
type GetTypeFn = unsafe extern "C" fn(RawNode) -> c_int;
// `Local<String> HeapGraphNode::GetName() const`: a `Local` is one pointer,
// trivially copyable, so it is returned in a register like a pointer.
type GetNameFn = unsafe extern "C" fn(RawNode) -> *mut c_void;
// `SnapshotObjectId HeapGraphNode::GetId() const` (`uint32_t`)
type GetIdFn = unsafe extern "C" fn(RawNode) -> u32;
// `size_t HeapGraphNode::GetShallowSize() const`
type GetShallowSizeFn = unsafe extern "C" fn(RawNode) -> usize;
type RawEdge = *const c_void;
// `int HeapGraphNode::GetChildrenCount() const`
type GetChildrenCountFn = unsafe extern "C" fn(RawNode) -> c_int;
// `const HeapGraphEdge* HeapGraphNode::GetChild(int) const` (unchecked index)
type GetChildFn = unsafe extern "C" fn(RawNode, c_int) -> RawEdge;
// `HeapGraphEdge::Type HeapGraphEdge::GetType() const` (an `int` enum)
type EdgeGetTypeFn = unsafe extern "C" fn(RawEdge) -> c_int;
// `Local<Value> HeapGraphEdge::GetName() const`: a string for named edges,
// a number for element and hidden edges (V8 allocates either)
type EdgeGetNameFn = unsafe extern "C" fn(RawEdge) -> *mut c_void;
// `const HeapGraphNode* HeapGraphEdge::GetToNode() const`: the same pointer
// `HeapSnapshot::GetNode` gives for that node
type EdgeGetToNodeFn = unsafe extern "C" fn(RawEdge) -> RawNode;

/// The V8 entry points behind in-process heap snapshots.
#[derive(Clone, Copy)]
pub struct HeapProfilerApi {
    get_heap_profiler: GetHeapProfilerFn,
    take_heap_snapshot: TakeHeapSnapshotFn,
    clear_object_ids: ClearObjectIdsFn,
    get_nodes_count: GetNodesCountFn,
    get_node: GetNodeFn,
    delete: DeleteFn,
    get_type: GetTypeFn,
    get_name: GetNameFn,
    get_id: GetIdFn,
    get_shallow_size: GetShallowSizeFn,
}

impl HeapProfilerApi {
    /// Resolves every heap-profiler symbol for a verified layout.
    pub fn resolve(layout: Layout) -> Result<HeapProfilerApi, Missing> {
        let take: &CStr = layout.take_heap_snapshot;
        // SAFETY: `layout.take_heap_snapshot` is the mangled name of
        // `HeapProfiler::TakeHeapSnapshot(ActivityControl*, <resolver>*, bool,
        // bool)` for this Node major (see `table.rs`), whose signature is
        // `TakeHeapSnapshotFn` with `this` first.
        let take_heap_snapshot = unsafe { resolve::<TakeHeapSnapshotFn>(take) }?;
        Ok(HeapProfilerApi {
            get_heap_profiler: symbol!("_ZN2v87Isolate15GetHeapProfilerEv"),
            take_heap_snapshot,
            clear_object_ids: symbol!("_ZN2v812HeapProfiler14ClearObjectIdsEv"),
            get_nodes_count: symbol!("_ZNK2v812HeapSnapshot13GetNodesCountEv"),
            get_node: symbol!("_ZNK2v812HeapSnapshot7GetNodeEi"),
            delete: symbol!("_ZN2v812HeapSnapshot6DeleteEv"),
            get_type: symbol!("_ZNK2v813HeapGraphNode7GetTypeEv"),
            get_name: symbol!("_ZNK2v813HeapGraphNode7GetNameEv"),
            get_id: symbol!("_ZNK2v813HeapGraphNode5GetIdEv"),
            get_shallow_size: symbol!("_ZNK2v813HeapGraphNode14GetShallowSizeEv"),
        })
    }

    /// Drops V8's table of snapshot object ids for `isolate` (one entry per
    /// object ever put in a snapshot): later snapshots number objects
    /// afresh. False if V8 has no heap profiler for it.
    pub fn clear_object_ids(&self, isolate: Isolate) -> bool {
        // SAFETY: `isolate` is the live isolate of this thread (`Isolate` is
        // only made by `GcApi::current_isolate` and is not `Send`).
        let profiler = unsafe { (self.get_heap_profiler)(isolate.ptr.as_ptr()) };
        if profiler.is_null() {
            return false;
        }
        // SAFETY: `profiler` is this isolate's heap profiler, called on its
        // thread from a JS call; no snapshot of ours is alive (the caller
        // holds none across JS calls), and V8 keeps working ids for any
        // allocation tracking that is on.
        unsafe { (self.clear_object_ids)(profiler) };
        true
    }

    /// Takes a heap snapshot of `isolate` (V8 runs full GCs first, which
    /// call the GC callbacks). Internals are hidden and numeric values are not
    /// captured, as in `v8.writeHeapSnapshot()`. The snapshot is deleted when
    /// the returned value is dropped. `None` if V8 returned no snapshot.
    pub fn take_snapshot(&self, isolate: Isolate) -> Option<HeapSnapshot> {
        // SAFETY: `isolate` is the live isolate of this thread (`Isolate` is
        // only made by `GcApi::current_isolate` and is not `Send`).
        let profiler = unsafe { (self.get_heap_profiler)(isolate.ptr.as_ptr()) };
        if profiler.is_null() {
            return None;
        }
        // SAFETY: `profiler` is this isolate's heap profiler; a null
        // `ActivityControl` and name resolver are the documented defaults.
        // Called from a JS call on the isolate's thread, not from a GC callback.
        let snapshot = unsafe {
            (self.take_heap_snapshot)(
                profiler,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                true,
                false,
            )
        };
        let ptr = NonNull::new(snapshot.cast_mut())?;
        // SAFETY: `ptr` is the live snapshot V8 just returned.
        let n = unsafe { (self.get_nodes_count)(ptr.as_ptr()) };
        Some(HeapSnapshot {
            api: *self,
            ptr,
            count: usize::try_from(n).unwrap_or(0),
            _not_send: PhantomData,
        })
    }
}

/// The V8 entry points that read a snapshot's edges.
#[derive(Clone, Copy)]
pub struct EdgeApi {
    get_children_count: GetChildrenCountFn,
    get_child: GetChildFn,
    get_type: EdgeGetTypeFn,
    get_name: EdgeGetNameFn,
    get_to_node: EdgeGetToNodeFn,
}

impl EdgeApi {
    /// Resolves the edge symbols (the same names in every verified major).
    pub fn resolve() -> Result<EdgeApi, Missing> {
        Ok(EdgeApi {
            get_children_count: symbol!("_ZNK2v813HeapGraphNode16GetChildrenCountEv"),
            get_child: symbol!("_ZNK2v813HeapGraphNode8GetChildEi"),
            get_type: symbol!("_ZNK2v813HeapGraphEdge7GetTypeEv"),
            get_name: symbol!("_ZNK2v813HeapGraphEdge7GetNameEv"),
            get_to_node: symbol!("_ZNK2v813HeapGraphEdge9GetToNodeEv"),
        })
    }
}

/// An edge's name as V8 gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EdgeNameRead {
    /// A string, copied into the caller's buffer.
    Text,
    /// A number (element and hidden edges).
    Number(f64),
}

/// A V8 heap snapshot, deleted on drop. Its nodes borrow it.
pub struct HeapSnapshot {
    api: HeapProfilerApi,
    ptr: NonNull<c_void>,
    /// The node count, read once (a taken snapshot never changes).
    count: usize,
    _not_send: PhantomData<*mut ()>,
}

impl HeapSnapshot {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.count
    }

    /// Node `i` (index order), `None` out of range.
    pub fn node(&self, i: usize) -> Option<HeapNode<'_>> {
        if i >= self.count {
            return None;
        }
        let i = c_int::try_from(i).ok()?;
        // SAFETY: the snapshot is live (borrowed) and `0 <= i < count`.
        let node = unsafe { (self.api.get_node)(self.ptr.as_ptr(), i) };
        NonNull::new(node.cast_mut()).map(|ptr| HeapNode {
            api: &self.api,
            ptr,
            _snapshot: PhantomData,
        })
    }

    /// Every node in index order.
    pub fn nodes(&self) -> impl Iterator<Item = HeapNode<'_>> + '_ {
        (0..self.count).filter_map(move |i| self.node(i))
    }
}

impl Drop for HeapSnapshot {
    fn drop(&mut self) {
        // SAFETY: `ptr` is a live snapshot, deleted only here; nodes borrow
        // the snapshot, so none is alive. `Delete` frees it and removes it
        // from the profiler's list.
        unsafe { (self.api.delete)(self.ptr.as_ptr()) }
    }
}

/// One node of a [`HeapSnapshot`].
#[derive(Clone, Copy)]
pub struct HeapNode<'s> {
    api: &'s HeapProfilerApi,
    ptr: NonNull<c_void>,
    _snapshot: PhantomData<&'s HeapSnapshot>,
}

impl HeapNode<'_> {
    /// The node's address, as an opaque key (never dereferenced here):
    /// `GetNode(i)` and an edge's `GetToNode()` give the same one.
    pub fn address(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Calls `f(edge_type, to_address, ordinal)` for each outgoing edge.
    pub fn for_each_edge(&self, edges: &EdgeApi, mut f: impl FnMut(u32, usize, u32)) {
        // SAFETY: the node belongs to a live snapshot (lifetime `'s`).
        let n = unsafe { (edges.get_children_count)(self.ptr.as_ptr()) };
        for k in 0..n.max(0) {
            // SAFETY: as above, and `0 <= k < GetChildrenCount()`: V8 indexes
            // the node's edge array with it unchecked.
            let e = unsafe { (edges.get_child)(self.ptr.as_ptr(), k) };
            if e.is_null() {
                continue;
            }
            // SAFETY: `e` is an edge of the live snapshot.
            let t = unsafe { (edges.get_type)(e) };
            // SAFETY: as above.
            let to = unsafe { (edges.get_to_node)(e) };
            if !to.is_null() {
                f(u32::try_from(t).unwrap_or(u32::MAX), to as usize, k as u32);
            }
        }
    }

    /// Reads the name of edge `ordinal` (a string into `buf`, or a number).
    /// V8 makes a JS value for it in the current handle scope (`scope`).
    /// `None` if there is no such edge or N-API could not read it.
    pub fn edge_name(
        &self,
        edges: &EdgeApi,
        ordinal: u32,
        scope: &NameScope<'_>,
        buf: &mut Vec<u8>,
    ) -> Option<EdgeNameRead> {
        // SAFETY: the node belongs to a live snapshot.
        let n = unsafe { (edges.get_children_count)(self.ptr.as_ptr()) };
        let k = c_int::try_from(ordinal).ok().filter(|&k| k < n)?;
        // SAFETY: as above, `0 <= k < GetChildrenCount()`.
        let e = unsafe { (edges.get_child)(self.ptr.as_ptr(), k) };
        if e.is_null() {
            return None;
        }
        // SAFETY: `e` is an edge of the live snapshot and a handle scope is
        // open on this thread (`scope`) for the value V8 creates.
        let local = unsafe { (edges.get_name)(e) };
        if local.is_null() {
            return None;
        }
        // A `v8::Local<v8::Value>` and a `napi_value` are the same pointer in
        // Node's N-API (see the module notes).
        let value = local.cast::<sys::napi_value__>();
        match scope.type_of(value)? {
            sys::ValueType::napi_number => scope.number(value).map(EdgeNameRead::Number),
            sys::ValueType::napi_string => {
                scope.read_utf8(value, buf).then_some(EdgeNameRead::Text)
            }
            _ => None,
        }
    }

    /// `v8::HeapGraphNode::Type` (0 hidden … 14 object shape).
    pub fn kind(&self) -> u32 {
        // SAFETY: the node belongs to a live snapshot (lifetime `'s`).
        let t = unsafe { (self.api.get_type)(self.ptr.as_ptr()) };
        u32::try_from(t).unwrap_or(u32::MAX)
    }

    /// The object id, stable across snapshots of one isolate.
    pub fn id(&self) -> u32 {
        // SAFETY: as in `kind`.
        unsafe { (self.api.get_id)(self.ptr.as_ptr()) }
    }

    /// Self ("shallow") size in bytes.
    pub fn self_size(&self) -> u64 {
        // SAFETY: as in `kind`.
        unsafe { (self.api.get_shallow_size)(self.ptr.as_ptr()) as u64 }
    }

    /// Reads the node's name (constructor name for objects) as UTF-8 into
    /// `buf`, replacing its contents. V8 internalizes the name as a JS string
    /// in the current handle scope, which `scope` keeps open. Returns false
    /// if N-API could not read it.
    pub fn read_name(&self, scope: &NameScope<'_>, buf: &mut Vec<u8>) -> bool {
        // SAFETY: the node belongs to a live snapshot and a handle scope is
        // open on this thread (`scope`), so the returned `Local` is valid
        // until that scope closes.
        let local = unsafe { (self.api.get_name)(self.ptr.as_ptr()) };
        if local.is_null() {
            buf.clear();
            return false;
        }
        // A `v8::Local<v8::Value>` and a `napi_value` are the same pointer in
        // Node's N-API (it converts between them with a plain copy).
        let value = local.cast::<sys::napi_value__>();
        scope.read_utf8(value, buf)
    }
}

/// An open N-API handle scope on the current thread, used to read node names
/// in batches; closed on drop. Scopes must close in reverse order of opening:
/// drop one before opening the next, within the N-API call that opened it.
pub struct NameScope<'env> {
    env: sys::napi_env,
    scope: sys::napi_handle_scope,
    _env: PhantomData<&'env ()>,
}

impl<'env> NameScope<'env> {
    /// Opens a handle scope in `env`. Must be called on the env's thread,
    /// inside a call from JS (the `Env` of a `#[napi]` function).
    pub fn open(env: &'env napi::Env) -> Option<NameScope<'env>> {
        let raw = env.raw();
        let mut scope: sys::napi_handle_scope = std::ptr::null_mut();
        // SAFETY: `raw` is the env of the current N-API call on this thread;
        // `scope` is a valid out-pointer.
        let status = unsafe { sys::napi_open_handle_scope(raw, &mut scope) };
        (status == sys::Status::napi_ok && !scope.is_null()).then_some(NameScope {
            env: raw,
            scope,
            _env: PhantomData,
        })
    }

    /// The JS type of `value`, a live handle in this scope.
    fn type_of(&self, value: sys::napi_value) -> Option<sys::napi_valuetype> {
        let mut t: sys::napi_valuetype = 0;
        // SAFETY: `value` is a live handle in this scope; `t` is a valid
        // out-pointer.
        let status = unsafe { sys::napi_typeof(self.env, value, &mut t) };
        (status == sys::Status::napi_ok).then_some(t)
    }

    /// The number `value` holds.
    fn number(&self, value: sys::napi_value) -> Option<f64> {
        let mut d = 0f64;
        // SAFETY: as in `type_of`; N-API checks that `value` is a number.
        let status = unsafe { sys::napi_get_value_double(self.env, value, &mut d) };
        (status == sys::Status::napi_ok).then_some(d)
    }

    /// Copies the UTF-8 bytes of the JS string `value` into `buf`.
    pub(super) fn read_utf8(&self, value: sys::napi_value, buf: &mut Vec<u8>) -> bool {
        const FIRST_TRY: usize = 256;
        buf.clear();
        buf.reserve(FIRST_TRY);
        let mut cap = buf.capacity();
        loop {
            let mut written = 0usize;
            // SAFETY: `value` is a live string handle in this scope; `buf` has
            // `cap` writable bytes; N-API writes at most `cap - 1` bytes plus
            // a NUL and reports the bytes written (without the NUL).
            let status = unsafe {
                sys::napi_get_value_string_utf8(
                    self.env,
                    value,
                    buf.as_mut_ptr().cast::<c_char>(),
                    cap,
                    &mut written,
                )
            };
            if status != sys::Status::napi_ok {
                return false;
            }
            // N-API never splits a UTF-8 sequence, so a truncated read can end
            // up to 3 bytes short of the buffer: only then ask for the length.
            if written + 4 < cap {
                // SAFETY: N-API initialised the first `written` bytes.
                unsafe { buf.set_len(written) };
                return true;
            }
            let mut full = 0usize;
            // SAFETY: a null buffer asks N-API only for the length in bytes.
            let status = unsafe {
                sys::napi_get_value_string_utf8(self.env, value, std::ptr::null_mut(), 0, &mut full)
            };
            if status != sys::Status::napi_ok {
                return false;
            }
            if full < cap {
                // SAFETY: the whole string (`full` bytes) fitted in `cap - 1`.
                unsafe { buf.set_len(written) };
                return true;
            }
            buf.reserve(full + 8);
            cap = buf.capacity();
        }
    }
}

impl Drop for NameScope<'_> {
    fn drop(&mut self) {
        // SAFETY: scopes are closed in reverse order of opening: a
        // `NameScope` borrows the env and is dropped before the N-API call
        // that opened it returns.
        unsafe {
            sys::napi_close_handle_scope(self.env, self.scope);
        }
    }
}
