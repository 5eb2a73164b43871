//! GC callbacks, heap statistics and forced GCs, from V8's C++ API.

use std::ffi::{c_int, c_void, CStr};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::rc::Rc;

use super::{resolve, Layout, Missing};
use crate::gc::stats::HeapStatistics;

/// Every GC kind, as the `gc_type_filter` of V8's callback registration
/// (Scavenge 1, MinorMarkSweep 2, MarkSweepCompact 4, IncrementalMarking 8,
/// ProcessWeakCallbacks 16; identical in Node 18-26).
const ALL_GC_TYPES: c_int = 31;

/// `MemoryPressureLevel::kModerate`.
const MEMORY_PRESSURE_MODERATE: c_int = 1;

pub(crate) type RawIsolate = *mut c_void;
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
        unsafe {
            (self.memory_pressure_notification)(isolate.ptr.as_ptr(), MEMORY_PRESSURE_MODERATE)
        }
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
                ALL_GC_TYPES,
            );
        }
        // SAFETY: as above.
        unsafe {
            (self.add_epilogue)(
                isolate.ptr.as_ptr(),
                on_gc_epilogue::<T>,
                data,
                ALL_GC_TYPES,
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
    pub(super) ptr: NonNull<c_void>,
    _not_send: PhantomData<*mut ()>,
}

/// What the GC callbacks report to. Runs inside a GC: must not touch the JS
/// heap, call into JS or N-API, or block.
pub trait GcObserver: 'static {
    /// A GC of kind `gc_type` (V8's `GCType` bit) starts.
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
