//! V8's sampling heap profiler: start, stop, and copy the live sampled
//! allocations out of an `AllocationProfile`.
//!
//! `HeapProfiler::StartSamplingHeapProfiler(uint64_t, int, SamplingFlags)`,
//! `StopSamplingHeapProfiler()` and `GetAllocationProfile()` are exported
//! under the same names by Node 20–26 on Linux (`uint64_t` is `unsigned
//! long` there, `m`; macOS's is `unsigned long long`, `y`, hence its own
//! literal). The profile is a C++ object with a vtable whose slots come
//! from the per-major table, and a tree of `AllocationProfile::Node`s read
//! in place through the `#[repr(C)]` mirrors below (libstdc++ vectors:
//! begin, end, end of storage).
//!
//! There is one sampler per isolate, shared with the inspector, DevTools and
//! `--heap-prof`: `Start` returns false when another one runs, and another
//! profiler's stop ends ours without telling (then `GetAllocationProfile`
//! returns null). An interval of 0 makes V8 abort the process (`CHECK`), so
//! [`SamplingApi::start`] takes a `NonZeroU64`. `GetAllocationProfile`
//! allocates on the JS heap: never call it from a GC callback.

use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_void, CStr};
use std::num::NonZeroU64;
use std::ptr::NonNull;

use napi::sys;

use super::gc::{Isolate, RawIsolate};
use super::heap_profiler::NameScope;
use super::table::AllocationProfileLayout;
use super::{resolve, Layout, Missing};

type RawProfiler = *mut c_void;
// `HeapProfiler* Isolate::GetHeapProfiler()`
type GetHeapProfilerFn = unsafe extern "C" fn(RawIsolate) -> RawProfiler;
// `bool HeapProfiler::StartSamplingHeapProfiler(uint64_t sample_interval,
//  int stack_depth, SamplingFlags flags)` (the enum is an `int`)
type StartFn = unsafe extern "C" fn(RawProfiler, u64, c_int, c_int) -> bool;
// `void HeapProfiler::StopSamplingHeapProfiler()`
type StopFn = unsafe extern "C" fn(RawProfiler);
// `AllocationProfile* HeapProfiler::GetAllocationProfile()`: owned by the caller
type GetProfileFn = unsafe extern "C" fn(RawProfiler) -> *mut c_void;
// vtable: `Node* AllocationProfile::GetRootNode()`
type GetRootNodeFn = unsafe extern "C" fn(*mut c_void) -> *const RawNode;
// vtable: the deleting destructor `AllocationProfile::~AllocationProfile()` (D0)
type DeletingDtorFn = unsafe extern "C" fn(*mut c_void);

/// `SamplingFlags::kSamplingNoFlags`: a live profile (samples are removed
/// when their object dies), no forced GC.
const NO_FLAGS: c_int = 0;

/// Nodes copied at most (a V8 tree is bounded by the live sampled stacks;
/// this only stops a corrupt one).
const MAX_NODES: usize = 1 << 22;

/// libstdc++ `std::vector<T>`: begin, end, end of storage.
#[repr(C)]
struct RawVec<T> {
    begin: *const T,
    end: *const T,
    cap: *const T,
}

impl<T> RawVec<T> {
    /// The vector's elements; empty when the pointers are not ordered.
    ///
    /// # Safety
    /// `self` must be a live libstdc++ `std::vector<T>`, and the returned
    /// slice must not outlive it.
    unsafe fn as_slice(&self) -> &[T] {
        if self.begin.is_null() || self.end < self.begin || self.cap < self.end {
            return &[];
        }
        // SAFETY: a libstdc++ vector's [begin, end) holds `end - begin`
        // constructed elements (the caller's contract); ordered above.
        let len = unsafe { self.end.offset_from(self.begin) } as usize;
        // SAFETY: as above; `T` is the element type.
        unsafe { std::slice::from_raw_parts(self.begin, len) }
    }
}

/// `v8::AllocationProfile::Allocation { size_t size; unsigned int count; }`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawAllocation {
    size: usize,
    count: c_uint,
}

/// `v8::AllocationProfile::Node`.
#[repr(C)]
struct RawNode {
    name: *mut c_void,
    script_name: *mut c_void,
    script_id: c_int,
    start_position: c_int,
    line_number: c_int,
    column_number: c_int,
    node_id: u32,
    children: RawVec<*const RawNode>,
    allocations: RawVec<RawAllocation>,
}

const _: () = assert!(std::mem::size_of::<RawAllocation>() == 16);
const _: () = assert!(std::mem::offset_of!(RawNode, script_id) == 16);
const _: () = assert!(std::mem::offset_of!(RawNode, node_id) == 32);
const _: () = assert!(std::mem::offset_of!(RawNode, children) == 40);
const _: () = assert!(std::mem::offset_of!(RawNode, allocations) == 64);

/// One node of the allocation tree, copied out of V8's profile: a function
/// (frame) under its caller, with the live sampled allocations made in it.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocationNode {
    /// Index of the caller in the copied list; `None` for V8's `(root)`.
    pub parent: Option<usize>,
    /// Function name (empty for anonymous functions).
    pub name: String,
    /// Script (file) name or URL; empty for non-script frames.
    pub script: String,
    /// 1-based line and column of the function; 0 when V8 has none.
    pub line: i32,
    pub column: i32,
    /// (object size, estimated count) pairs: V8 has already scaled the
    /// count by the sampling probability.
    pub allocations: Vec<(u64, u64)>,
}

/// The V8 entry points behind the sampling heap profiler.
#[derive(Clone, Copy)]
pub struct SamplingApi {
    layout: AllocationProfileLayout,
    get_heap_profiler: GetHeapProfilerFn,
    start: StartFn,
    stop: StopFn,
    get_profile: GetProfileFn,
}

impl SamplingApi {
    /// Resolves the sampling symbols for a verified layout; an error if the
    /// layout has no verified `AllocationProfile` or a symbol is missing.
    pub fn resolve(layout: Layout) -> Result<SamplingApi, Missing> {
        // MSVC lays vtables out otherwise (one scalar deleting destructor
        // taking a flag): the slots in the table are Itanium ones.
        if cfg!(windows) {
            return Err(Missing(
                "an Itanium C++ ABI v8::AllocationProfile (MSVC's vtable is not verified)".into(),
            ));
        }
        let Some(profile) = layout.allocation_profile else {
            return Err(Missing(format!(
                "a verified v8::AllocationProfile layout for Node {}",
                layout.major
            )));
        };
        if profile.node_size != std::mem::size_of::<RawNode>() {
            return Err(Missing(format!(
                "a v8::AllocationProfile::Node of {} bytes",
                std::mem::size_of::<RawNode>()
            )));
        }
        #[cfg(not(target_os = "macos"))]
        let start: StartFn =
            symbol!("_ZN2v812HeapProfiler25StartSamplingHeapProfilerEmiNS0_13SamplingFlagsE");
        #[cfg(target_os = "macos")]
        let start: StartFn =
            symbol!("_ZN2v812HeapProfiler25StartSamplingHeapProfilerEyiNS0_13SamplingFlagsE");
        Ok(SamplingApi {
            layout: profile,
            get_heap_profiler: symbol!("_ZN2v87Isolate15GetHeapProfilerEv"),
            start,
            stop: symbol!("_ZN2v812HeapProfiler24StopSamplingHeapProfilerEv"),
            get_profile: symbol!("_ZN2v812HeapProfiler20GetAllocationProfileEv"),
        })
    }

    fn profiler(&self, isolate: Isolate) -> Option<NonNull<c_void>> {
        // SAFETY: `isolate` is the live isolate of this thread (`Isolate` is
        // only made by `GcApi::current_isolate` and is not `Send`).
        NonNull::new(unsafe { (self.get_heap_profiler)(isolate.ptr.as_ptr()) })
    }

    /// Starts sampling every `interval` bytes on average, keeping up to
    /// `depth` frames; false if a sampler already runs in this isolate
    /// (V8 keeps one) or there is no heap profiler.
    pub fn start(&self, isolate: Isolate, interval: NonZeroU64, depth: c_int) -> bool {
        let Some(p) = self.profiler(isolate) else {
            return false;
        };
        // SAFETY: `p` is this isolate's profiler, on its thread, called from
        // JS (not a GC callback); the interval is not 0 (V8 CHECKs it).
        unsafe { (self.start)(p.as_ptr(), interval.get(), depth, NO_FLAGS) }
    }

    /// Stops the isolate's sampler and discards its samples (nothing if
    /// none runs).
    pub fn stop(&self, isolate: Isolate) {
        if let Some(p) = self.profiler(isolate) {
            // SAFETY: as in `start`; V8 resets its sampler (null is fine).
            unsafe { (self.stop)(p.as_ptr()) }
        }
    }

    /// Copies the current profile tree, pre-order, V8's `(root)` first;
    /// `None` when no sampler runs in this isolate (never started, or
    /// stopped by another profiler) or no handle scope could be opened.
    /// Call from a JS call on the isolate's thread (`env`), never from a GC
    /// callback: V8 allocates the names on the JS heap.
    pub fn profile(&self, isolate: Isolate, env: &napi::Env) -> Option<Vec<AllocationNode>> {
        let p = self.profiler(isolate)?;
        // V8 creates two string handles per node in the current scope: open
        // one first, closed once the names are copied.
        let scope = NameScope::open(env)?;
        // SAFETY: as in `start`; a handle scope is open. Ownership of the
        // returned object passes to us (`Owned` deletes it).
        let raw = NonNull::new(unsafe { (self.get_profile)(p.as_ptr()) })?;
        let profile = Owned {
            ptr: raw,
            dtor_slot: self.layout.deleting_dtor_slot,
        };
        let get_root: GetRootNodeFn = profile.slot(self.layout.root_node_slot);
        // SAFETY: `profile` is a live `v8::AllocationProfile`; the table
        // verified this slot to be `GetRootNode` for this major.
        let root = unsafe { get_root(profile.ptr.as_ptr()) };
        let mut out = Vec::new();
        if root.is_null() {
            return Some(out);
        }
        let mut buf = Vec::with_capacity(256);
        let read = |v: *mut c_void, buf: &mut Vec<u8>| -> String {
            if !v.is_null() && scope.read_utf8(v.cast::<sys::napi_value__>(), buf) {
                String::from_utf8_lossy(buf).into_owned()
            } else {
                String::new()
            }
        };
        let mut scripts: HashMap<c_int, String> = HashMap::new();
        let mut stack: Vec<(*const RawNode, Option<usize>)> = vec![(root, None)];
        while let Some((node, parent)) = stack.pop() {
            if out.len() >= MAX_NODES {
                break;
            }
            // SAFETY: tree nodes belong to the profile, alive until
            // `profile` is dropped at the end of this function; `node` is
            // non-null (checked before it was pushed).
            let n = unsafe { &*node };
            let name = read(n.name, &mut buf);
            let script = match scripts.get(&n.script_id) {
                Some(s) => s.clone(),
                None => {
                    let s = read(n.script_name, &mut buf);
                    scripts.insert(n.script_id, s.clone());
                    s
                }
            };
            // SAFETY: the node's vectors are alive with it (see above).
            let allocations = unsafe { n.allocations.as_slice() }
                .iter()
                .map(|a| (a.size as u64, u64::from(a.count)))
                .collect();
            let index = out.len();
            out.push(AllocationNode {
                parent,
                name,
                script,
                line: n.line_number,
                column: n.column_number,
                allocations,
            });
            // SAFETY: as above.
            for &child in unsafe { n.children.as_slice() }.iter().rev() {
                if !child.is_null() {
                    stack.push((child, Some(index)));
                }
            }
        }
        drop(profile);
        drop(scope);
        Some(out)
    }
}

/// An `AllocationProfile` we own: deleted through its virtual deleting
/// destructor on drop, also on an early return.
struct Owned {
    ptr: NonNull<c_void>,
    dtor_slot: usize,
}

impl Owned {
    /// The function in vtable slot `slot`.
    fn slot<F: Copy>(&self, slot: usize) -> F {
        const { assert!(std::mem::size_of::<F>() == std::mem::size_of::<usize>()) };
        // SAFETY: a polymorphic C++ object starts with its vtable pointer
        // (Itanium ABI); `ptr` is live.
        let vtable = unsafe { *self.ptr.as_ptr().cast::<*const usize>() };
        // SAFETY: the per-major table verified that the vtable has this
        // slot, so the offset stays inside it.
        let at = unsafe { vtable.add(slot) };
        // SAFETY: `at` points at a vtable entry, a function address.
        let entry = unsafe { *at };
        // SAFETY: `F` is the function pointer type of that slot (the caller
        // picks the type matching the table's slot); sizes are asserted.
        unsafe { std::mem::transmute_copy::<usize, F>(&entry) }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let dtor: DeletingDtorFn = self.slot(self.dtor_slot);
        // SAFETY: the object came from `GetAllocationProfile` (ours) and is
        // deleted only here; D0 runs the destructor and frees it with the
        // matching `operator delete`.
        unsafe { dtor(self.ptr.as_ptr()) }
    }
}
