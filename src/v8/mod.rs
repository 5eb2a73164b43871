//! The only place that talks to V8's C++ API.
//!
//! Node exports V8's C++ API from its own binary. N-API has no GC callbacks,
//! heap statistics or heap profiler, so this module resolves the few mangled
//! symbols it needs with `dlsym` at runtime (no C++ compiler, no headers) and
//! wraps each in a safe function. Itanium C++ ABI: a member function is a plain
//! function whose first argument is `this`, enums are `int`.
//!
//! Rules: every `unsafe` block carries a `// SAFETY:` note; this module decides
//! no policy; a missing symbol or an unverified Node major is reported as an
//! error so the caller can fall back instead of crashing.
//!
//! [`node_api`] is the one part that is not about V8's C++ API: the raw
//! Node-API calls of `trackGC`'s hot paths, kept here with the crate's other
//! `unsafe` code.

pub mod node_api;
pub mod table;

use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::rc::Rc;

pub use table::{layout_for, Layout, VERIFIED_MAJORS};

use crate::stats::HeapStatistics;

/// GC type bits V8 passes to GC callbacks (identical in Node 18–26).
pub mod gc_type {
    /// Young-generation scavenge.
    pub const SCAVENGE: u32 = 1;
    /// Young-generation mark-sweep (minor mark-compact).
    pub const MINOR_MARK_SWEEP: u32 = 2;
    /// Full mark-sweep-compact.
    pub const MARK_SWEEP_COMPACT: u32 = 4;
    /// An incremental-marking step.
    pub const INCREMENTAL_MARKING: u32 = 8;
    /// Processing of weak callbacks after a GC.
    pub const PROCESS_WEAK_CALLBACKS: u32 = 16;
    /// Every kind.
    pub const ALL: u32 = 31;
}

/// GC callback flag bits (`v8::GCCallbackFlags`).
pub mod gc_flags {
    /// The GC was forced (by the embedder or an API call).
    pub const FORCED: u32 = 1 << 2;
    /// A memory-reducing GC that collects all available garbage.
    pub const COLLECT_ALL_AVAILABLE_GARBAGE: u32 = 1 << 4;
}

/// A symbol that the running node binary does not export.
#[derive(Debug, Clone)]
pub struct Missing(pub String);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(unix)]
extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

#[cfg(target_os = "macos")]
const RTLD_DEFAULT: *mut c_void = -2isize as *mut c_void;
#[cfg(all(unix, not(target_os = "macos")))]
const RTLD_DEFAULT: *mut c_void = std::ptr::null_mut();

/// Looks a symbol up in the global scope of the process (the node binary).
fn lookup(name: &CStr) -> Result<NonNull<c_void>, Missing> {
    if hidden(name) {
        return Err(Missing(name.to_string_lossy().into_owned()));
    }
    #[cfg(unix)]
    {
        // SAFETY: `dlsym` only reads the NUL-terminated `name`; RTLD_DEFAULT is
        // the documented pseudo-handle for the global symbol scope.
        let p = unsafe { dlsym(RTLD_DEFAULT, name.as_ptr()) };
        NonNull::new(p).ok_or_else(|| Missing(name.to_string_lossy().into_owned()))
    }
    #[cfg(not(unix))]
    {
        Err(Missing(name.to_string_lossy().into_owned()))
    }
}

/// Fault injection for tests: `MEMWATCH_HIDE_SYMBOLS` lists comma-separated
/// substrings of mangled names to treat as missing, so the fallbacks a
/// missing symbol switches to can be exercised on a complete node binary.
fn hidden(name: &CStr) -> bool {
    let Some(list) = std::env::var_os("MEMWATCH_HIDE_SYMBOLS") else {
        return false;
    };
    let name = name.to_string_lossy();
    list.to_string_lossy()
        .split(',')
        .any(|part| !part.is_empty() && name.contains(part))
}

/// Resolves `name` and reinterprets it as the function pointer type `F`.
///
/// # Safety
/// `F` must be an `extern "C"` function pointer type whose signature matches
/// the C++ declaration the mangled `name` encodes.
unsafe fn resolve<F: Copy>(name: &CStr) -> Result<F, Missing> {
    const { assert!(std::mem::size_of::<F>() == std::mem::size_of::<*mut c_void>()) };
    let p = lookup(name)?;
    // SAFETY: the caller guarantees `F` is a function pointer type matching the
    // symbol's signature; function and data pointers have the same size here
    // (asserted above).
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p.as_ptr()) })
}

/// Resolves a mangled name into the function-pointer type of the field or
/// binding it initialises.
macro_rules! symbol {
    ($name:literal) => {{
        let name: &CStr = match CStr::from_bytes_with_nul(concat!($name, "\0").as_bytes()) {
            Ok(name) => name,
            Err(_) => unreachable!(),
        };
        // SAFETY: every use initialises a field or binding whose declared type
        // is the `extern "C"` function pointer matching the C++ declaration
        // that `$name` mangles (documented at each type alias below).
        unsafe { resolve(name) }?
    }};
}

mod heap_profiler;

pub use heap_profiler::{HeapProfilerApi, NameScope};

type RawIsolate = *mut c_void;
// `void (*)(Isolate*, GCType, GCCallbackFlags, void*)`
type GcCallback = unsafe extern "C" fn(RawIsolate, c_int, c_int, *mut c_void);
// `void Isolate::Add/RemoveGC{Prologue,Epilogue}Callback(GCCallbackWithData, void*[, GCType])`
type AddGcCallbackFn = unsafe extern "C" fn(RawIsolate, GcCallback, *mut c_void, c_int);
type RemoveGcCallbackFn = unsafe extern "C" fn(RawIsolate, GcCallback, *mut c_void);
// `static Isolate* Isolate::GetCurrent()`
type GetCurrentFn = unsafe extern "C" fn() -> RawIsolate;
// `void Isolate::LowMemoryNotification()`
type IsolateFn = unsafe extern "C" fn(RawIsolate);
// `void Isolate::MemoryPressureNotification(MemoryPressureLevel)`
type MemoryPressureFn = unsafe extern "C" fn(RawIsolate, c_int);
// `HeapStatistics::HeapStatistics()` and `void Isolate::GetHeapStatistics(HeapStatistics*)`
type HeapStatisticsCtorFn = unsafe extern "C" fn(*mut c_void);
type GetHeapStatisticsFn = unsafe extern "C" fn(RawIsolate, *mut c_void);

/// The V8 entry points behind GC hooks, heap statistics and forced GCs.
#[derive(Clone, Copy)]
pub struct GcApi {
    layout: Layout,
    get_current: GetCurrentFn,
    add_prologue: AddGcCallbackFn,
    add_epilogue: AddGcCallbackFn,
    remove_prologue: RemoveGcCallbackFn,
    remove_epilogue: RemoveGcCallbackFn,
    heap_statistics_ctor: HeapStatisticsCtorFn,
    get_heap_statistics: GetHeapStatisticsFn,
    low_memory_notification: IsolateFn,
    memory_pressure_notification: MemoryPressureFn,
}

impl GcApi {
    /// Resolves every symbol the GC features need for a verified layout.
    pub fn resolve(layout: Layout) -> Result<GcApi, Missing> {
        Ok(GcApi {
            layout,
            get_current: symbol!("_ZN2v87Isolate10GetCurrentEv"),
            add_prologue: symbol!(
                "_ZN2v87Isolate21AddGCPrologueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_S2_"
            ),
            add_epilogue: symbol!(
                "_ZN2v87Isolate21AddGCEpilogueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_S2_"
            ),
            remove_prologue: symbol!(
                "_ZN2v87Isolate24RemoveGCPrologueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_"
            ),
            remove_epilogue: symbol!(
                "_ZN2v87Isolate24RemoveGCEpilogueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_"
            ),
            heap_statistics_ctor: symbol!("_ZN2v814HeapStatisticsC1Ev"),
            get_heap_statistics: symbol!(
                "_ZN2v87Isolate17GetHeapStatisticsEPNS_14HeapStatisticsE"
            ),
            low_memory_notification: symbol!("_ZN2v87Isolate21LowMemoryNotificationEv"),
            memory_pressure_notification: symbol!(
                "_ZN2v87Isolate26MemoryPressureNotificationENS_19MemoryPressureLevelE"
            ),
        })
    }

    /// The isolate entered on this thread, if any.
    pub fn current_isolate(&self) -> Option<Isolate> {
        // SAFETY: `Isolate::GetCurrent` reads a thread-local and has no
        // preconditions; it returns null when no isolate is entered.
        let raw = unsafe { (self.get_current)() };
        NonNull::new(raw).map(|ptr| Isolate {
            ptr,
            _not_send: PhantomData,
        })
    }

    /// V8's heap statistics for `isolate`, read through its own constructor and
    /// getter into a buffer larger than any verified layout.
    pub fn heap_statistics(&self, isolate: Isolate) -> HeapStatistics {
        let mut buf = HeapStatisticsBuf([0; 32]);
        debug_assert!(self.layout.heap_statistics_size <= std::mem::size_of_val(&buf));
        let p = buf.0.as_mut_ptr().cast::<c_void>();
        // SAFETY: `buf` is 256 bytes, 8-aligned, larger than `v8::HeapStatistics`
        // in every verified layout (112 or 120 bytes); the constructor
        // initialises it in place. The class is trivially destructible.
        unsafe { (self.heap_statistics_ctor)(p) };
        // SAFETY: `isolate` is the live isolate of this thread (the `Isolate`
        // type is only made by `current_isolate` and is not `Send`); `p` points
        // to a constructed `HeapStatistics`.
        unsafe { (self.get_heap_statistics)(isolate.ptr.as_ptr(), p) };
        let field = |i: usize| buf.0[i];
        HeapStatistics {
            total_heap_size: field(0),
            total_heap_size_executable: field(1),
            total_physical_size: field(2),
            total_available_size: field(3),
            used_heap_size: field(4),
            heap_size_limit: field(5),
            malloced_memory: field(6),
            external_memory: field(7),
            peak_malloced_memory: field(8),
            // field 9 is `does_zap_garbage` (a bool, padded to 8 bytes)
            number_of_native_contexts: field(10),
            number_of_detached_contexts: field(11),
            total_global_handles_size: field(12),
            used_global_handles_size: field(13),
            total_allocated_bytes: (self.layout.heap_statistics_size >= 120).then(|| field(14)),
        }
    }

    /// Asks V8 for the most thorough collection it has: several full,
    /// memory-reducing (compacting) GCs, synchronously. Needs no flags.
    pub fn low_memory_notification(&self, isolate: Isolate) {
        // SAFETY: `isolate` is the live isolate of this thread; the call is
        // made from a JS call, never from inside a GC callback.
        unsafe { (self.low_memory_notification)(isolate.ptr.as_ptr()) }
    }

    /// Tells V8 memory is under moderate pressure: it starts incremental
    /// (mostly concurrent) marking if none is running, which ends in a full
    /// GC soon after, without a long pause.
    pub fn memory_pressure_moderate(&self, isolate: Isolate) {
        // SAFETY: `isolate` is the live isolate of this thread; 1 is
        // `MemoryPressureLevel::kModerate`; called from a JS call, not a GC.
        unsafe { (self.memory_pressure_notification)(isolate.ptr.as_ptr(), 1) }
    }

    /// Registers `observer` for every GC prologue and epilogue of `isolate`.
    /// The callbacks stay registered until the returned [`GcHooks`] is dropped,
    /// which must happen on the isolate's thread while it is alive.
    pub fn add_gc_hooks<T: GcObserver>(&self, isolate: Isolate, observer: Rc<T>) -> GcHooks<T> {
        let data = Rc::into_raw(observer).cast_mut().cast::<c_void>();
        // SAFETY: `isolate` is live and current; `data` points to a `T` kept
        // alive by the strong count leaked above until `GcHooks::drop` removes
        // both callbacks and reclaims it.
        unsafe {
            (self.add_prologue)(
                isolate.ptr.as_ptr(),
                on_gc_prologue::<T>,
                data,
                gc_type::ALL as c_int,
            );
        }
        // SAFETY: as above.
        unsafe {
            (self.add_epilogue)(
                isolate.ptr.as_ptr(),
                on_gc_epilogue::<T>,
                data,
                gc_type::ALL as c_int,
            );
        }
        GcHooks {
            api: *self,
            isolate,
            data: data.cast::<T>(),
        }
    }
}

/// A buffer for `v8::HeapStatistics` with room to spare.
#[repr(C, align(8))]
struct HeapStatisticsBuf([u64; 32]);

/// A V8 isolate pointer, usable only on the thread that got it.
#[derive(Clone, Copy)]
pub struct Isolate {
    ptr: NonNull<c_void>,
    _not_send: PhantomData<*mut ()>,
}

/// What the GC callbacks report to. Runs inside a GC: must not touch the JS
/// heap, call into JS or N-API, or block.
pub trait GcObserver: 'static {
    /// A GC of kind `gc_type` (one of [`gc_type`]) starts.
    fn gc_prologue(&self, gc_type: u32, flags: u32);
    /// A GC of kind `gc_type` ends.
    fn gc_epilogue(&self, gc_type: u32, flags: u32);
}

unsafe extern "C" fn on_gc_prologue<T: GcObserver>(
    _isolate: RawIsolate,
    gc_type: c_int,
    flags: c_int,
    data: *mut c_void,
) {
    // SAFETY: `data` is the `Rc<T>` pointer registered by `add_gc_hooks`; it
    // stays valid until `GcHooks::drop` has removed this callback.
    let observer = unsafe { &*data.cast::<T>() };
    // A panic must not unwind into V8: it is caught and the event dropped.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        observer.gc_prologue(gc_type as u32, flags as u32)
    }));
}

unsafe extern "C" fn on_gc_epilogue<T: GcObserver>(
    _isolate: RawIsolate,
    gc_type: c_int,
    flags: c_int,
    data: *mut c_void,
) {
    // SAFETY: as in `on_gc_prologue`.
    let observer = unsafe { &*data.cast::<T>() };
    let _ = catch_unwind(AssertUnwindSafe(|| {
        observer.gc_epilogue(gc_type as u32, flags as u32)
    }));
}

/// Registered GC callbacks; dropping it removes them.
pub struct GcHooks<T: GcObserver> {
    api: GcApi,
    isolate: Isolate,
    data: *const T,
}

impl<T: GcObserver> Drop for GcHooks<T> {
    fn drop(&mut self) {
        let data = self.data.cast_mut().cast::<c_void>();
        // SAFETY: same isolate, callback and data as registered in
        // `add_gc_hooks`; `GcHooks` is not `Send`, so this runs on the
        // isolate's thread, and its owner drops it before the isolate dies.
        unsafe {
            (self.api.remove_prologue)(self.isolate.ptr.as_ptr(), on_gc_prologue::<T>, data);
        }
        // SAFETY: as above.
        unsafe {
            (self.api.remove_epilogue)(self.isolate.ptr.as_ptr(), on_gc_epilogue::<T>, data);
        }
        // SAFETY: both callbacks are gone, so nothing else uses the pointer;
        // this reclaims the strong count leaked in `add_gc_hooks`.
        drop(unsafe { Rc::from_raw(self.data) });
    }
}

// glibc's `int malloc_trim(size_t pad)`
type MallocTrimFn = unsafe extern "C" fn(usize) -> c_int;

/// Returns free heap memory to the OS if the C library can (glibc's
/// `malloc_trim`, looked up at runtime); false when it is not available.
pub fn malloc_trim() -> bool {
    // SAFETY: `malloc_trim` has this signature in glibc; other C libraries
    // do not export it and the lookup fails.
    match unsafe { resolve::<MallocTrimFn>(c"malloc_trim") } {
        // SAFETY: `malloc_trim` only walks the allocator's own free lists.
        Ok(trim) => unsafe { trim(0) != 0 },
        Err(_) => false,
    }
}
