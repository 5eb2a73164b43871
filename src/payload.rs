//! The objects handed to JavaScript. Doc comments here become the `.d.ts`.

use napi_derive::napi;

/// Heap statistics after a full (mark-sweep-compact) GC. Bytes unless said.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Full (mark-sweep-compact) GCs so far in this isolate.
    #[napi(js_name = "num_full_gc")]
    pub num_full_gc: f64,
    /// Other GCs so far: scavenges, minor mark-sweeps, incremental-marking steps.
    #[napi(js_name = "num_inc_gc")]
    pub num_inc_gc: f64,
    /// Full GCs run in memory-reducing mode (forced or low-memory GCs).
    #[napi(js_name = "heap_compactions")]
    pub heap_compactions: f64,
    /// Percent by which `estimated_base` is above (+) or below (-) the long-term base.
    #[napi(js_name = "usage_trend")]
    pub usage_trend: f64,
    /// V8 used heap size right after this GC.
    #[napi(js_name = "current_base")]
    pub current_base: f64,
    /// Moving average of `current_base` over the last 10 observed full GCs.
    #[napi(js_name = "estimated_base")]
    pub estimated_base: f64,
    /// Smallest `current_base` observed.
    pub min: f64,
    /// Largest `current_base` observed.
    pub max: f64,
    /// When this GC ended, microseconds since the epoch.
    #[napi(js_name = "gc_ts")]
    pub gc_ts: f64,
    /// This GC's pause in nanoseconds (for `gc()`: the whole forced collection).
    #[napi(js_name = "gc_time")]
    pub gc_time: f64,
    /// This GC's pause in milliseconds.
    #[napi(js_name = "pause_ms")]
    pub pause_ms: f64,
    /// True when this GC was run by `memwatch.gc()`.
    pub forced: bool,
    /// Scavenges so far.
    #[napi(js_name = "gcScavengeCount")]
    pub gc_scavenge_count: f64,
    /// Total scavenge time, nanoseconds.
    #[napi(js_name = "gcScavengeTime")]
    pub gc_scavenge_time: f64,
    /// Minor mark-sweeps so far (V8's young-generation mark-sweep, when enabled).
    #[napi(js_name = "gcMinorMarkSweepCount")]
    pub gc_minor_mark_sweep_count: f64,
    /// Total minor mark-sweep time, nanoseconds.
    #[napi(js_name = "gcMinorMarkSweepTime")]
    pub gc_minor_mark_sweep_time: f64,
    /// Full mark-sweep-compact GCs so far.
    #[napi(js_name = "gcMarkSweepCompactCount")]
    pub gc_mark_sweep_compact_count: f64,
    /// Total full-GC pause time, nanoseconds.
    #[napi(js_name = "gcMarkSweepCompactTime")]
    pub gc_mark_sweep_compact_time: f64,
    /// Incremental-marking steps so far.
    #[napi(js_name = "gcIncrementalMarkingCount")]
    pub gc_incremental_marking_count: f64,
    /// Total incremental-marking step time, nanoseconds.
    #[napi(js_name = "gcIncrementalMarkingTime")]
    pub gc_incremental_marking_time: f64,
    /// Weak-callback processing phases so far.
    #[napi(js_name = "gcProcessWeakCallbacksCount")]
    pub gc_process_weak_callbacks_count: f64,
    /// Total weak-callback processing time, nanoseconds.
    #[napi(js_name = "gcProcessWeakCallbacksTime")]
    pub gc_process_weak_callbacks_time: f64,
    /// Heap reserved by V8.
    #[napi(js_name = "total_heap_size")]
    pub total_heap_size: f64,
    /// Part of `total_heap_size` that holds executable code.
    #[napi(js_name = "total_heap_size_executable")]
    pub total_heap_size_executable: f64,
    /// Heap memory actually committed.
    #[napi(js_name = "total_physical_size")]
    pub total_physical_size: f64,
    /// Bytes V8 can still allocate before reaching `heap_size_limit`.
    #[napi(js_name = "total_available_size")]
    pub total_available_size: f64,
    /// Used heap right after this GC (same as `current_base`).
    #[napi(js_name = "used_heap_size")]
    pub used_heap_size: f64,
    /// The heap's size limit.
    #[napi(js_name = "heap_size_limit")]
    pub heap_size_limit: f64,
    /// Memory V8 allocated with malloc.
    #[napi(js_name = "malloced_memory")]
    pub malloced_memory: f64,
    /// Peak of `malloced_memory`.
    #[napi(js_name = "peak_malloced_memory")]
    pub peak_malloced_memory: f64,
    /// Memory held outside the heap by JS objects (Buffers, ArrayBuffers).
    #[napi(js_name = "external_memory")]
    pub external_memory: f64,
    /// Live native contexts (realms); a rising count is a context leak.
    #[napi(js_name = "number_of_native_contexts")]
    pub number_of_native_contexts: f64,
    /// Contexts detached but not yet collected; non-zero for long is a leak.
    #[napi(js_name = "number_of_detached_contexts")]
    pub number_of_detached_contexts: f64,
    /// Memory reserved for global handles.
    #[napi(js_name = "total_global_handles_size")]
    pub total_global_handles_size: f64,
    /// Memory used by global handles.
    #[napi(js_name = "used_global_handles_size")]
    pub used_global_handles_size: f64,
    /// Bytes allocated since the isolate started (Node 26 and later only).
    #[napi(js_name = "total_allocated_bytes")]
    pub total_allocated_bytes: Option<f64>,
}

/// A full GC seen from JS in fallback mode: perf_hooks counters and
/// `v8.getHeapStatistics()` read just after the GC.
#[napi(object)]
pub struct ExternalGc {
    /// When the GC ended, ms since the epoch.
    pub ts_ms: f64,
    /// Its pause, ns.
    pub pause_ns: f64,
    /// True for `gc()`.
    pub forced: bool,
    /// `v8.getHeapStatistics()`.
    pub heap: JsHeapStatistics,
    /// GC counts and times so far, by kind: `[count, ns]` pairs for scavenge,
    /// minor mark-sweep, mark-sweep-compact, incremental marking and weak
    /// callbacks, then the compaction count (11 numbers).
    pub tallies: Vec<f64>,
}

/// `v8.getHeapStatistics()` as Node returns it.
#[napi(object)]
pub struct JsHeapStatistics {
    #[napi(js_name = "total_heap_size")]
    pub total_heap_size: f64,
    #[napi(js_name = "total_heap_size_executable")]
    pub total_heap_size_executable: f64,
    #[napi(js_name = "total_physical_size")]
    pub total_physical_size: f64,
    #[napi(js_name = "total_available_size")]
    pub total_available_size: f64,
    #[napi(js_name = "used_heap_size")]
    pub used_heap_size: f64,
    #[napi(js_name = "heap_size_limit")]
    pub heap_size_limit: f64,
    #[napi(js_name = "malloced_memory")]
    pub malloced_memory: f64,
    #[napi(js_name = "peak_malloced_memory")]
    pub peak_malloced_memory: f64,
    #[napi(js_name = "external_memory")]
    pub external_memory: Option<f64>,
    #[napi(js_name = "number_of_native_contexts")]
    pub number_of_native_contexts: f64,
    #[napi(js_name = "number_of_detached_contexts")]
    pub number_of_detached_contexts: f64,
    #[napi(js_name = "total_global_handles_size")]
    pub total_global_handles_size: Option<f64>,
    #[napi(js_name = "used_global_handles_size")]
    pub used_global_handles_size: Option<f64>,
    #[napi(js_name = "total_allocated_bytes")]
    pub total_allocated_bytes: Option<f64>,
}

fn bytes(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x as u64
    } else {
        0
    }
}

impl From<ExternalGc> for crate::stats::FullGc {
    fn from(g: ExternalGc) -> Self {
        use crate::stats::{FullGc, GcTallies, HeapStatistics, KindTally};
        let t = |i: usize| bytes(g.tallies.get(i).copied().unwrap_or(0.0));
        let kind = |i: usize| KindTally {
            count: t(2 * i),
            time_ns: t(2 * i + 1),
        };
        let h = &g.heap;
        FullGc {
            ts_ms: g.ts_ms,
            pause_ns: bytes(g.pause_ns),
            forced: g.forced,
            heap: HeapStatistics {
                total_heap_size: bytes(h.total_heap_size),
                total_heap_size_executable: bytes(h.total_heap_size_executable),
                total_physical_size: bytes(h.total_physical_size),
                total_available_size: bytes(h.total_available_size),
                used_heap_size: bytes(h.used_heap_size),
                heap_size_limit: bytes(h.heap_size_limit),
                malloced_memory: bytes(h.malloced_memory),
                external_memory: bytes(h.external_memory.unwrap_or(0.0)),
                peak_malloced_memory: bytes(h.peak_malloced_memory),
                number_of_native_contexts: bytes(h.number_of_native_contexts),
                number_of_detached_contexts: bytes(h.number_of_detached_contexts),
                total_global_handles_size: bytes(h.total_global_handles_size.unwrap_or(0.0)),
                used_global_handles_size: bytes(h.used_global_handles_size.unwrap_or(0.0)),
                total_allocated_bytes: h.total_allocated_bytes.map(bytes),
            },
            tallies: GcTallies {
                scavenge: kind(0),
                minor_mark_sweep: kind(1),
                mark_sweep_compact: kind(2),
                incremental_marking: kind(3),
                process_weak_callbacks: kind(4),
                compactions: t(10),
            },
        }
    }
}
