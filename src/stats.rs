//! GC accounting and memwatch's `stats` maths, on plain data.
//!
//! Nothing here touches N-API or V8: GC callbacks feed [`GcTallies::record`],
//! full GCs become [`FullGc`] samples, and [`StatsEngine::observe`] turns a
//! sample into the `stats` payload. All maths is 64-bit or float: no overflow
//! above 4 GiB, a signed trend, and an exact running mean while warming up.

use crate::payload::Stats;
use crate::v8::gc_type;

/// V8's `HeapStatistics`, in bytes unless said.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HeapStatistics {
    pub total_heap_size: u64,
    pub total_heap_size_executable: u64,
    pub total_physical_size: u64,
    pub total_available_size: u64,
    pub used_heap_size: u64,
    pub heap_size_limit: u64,
    pub malloced_memory: u64,
    pub external_memory: u64,
    pub peak_malloced_memory: u64,
    pub number_of_native_contexts: u64,
    pub number_of_detached_contexts: u64,
    pub total_global_handles_size: u64,
    pub used_global_handles_size: u64,
    /// Only reported by Node 26 and later.
    pub total_allocated_bytes: Option<u64>,
}

/// Count and total time of one GC kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindTally {
    pub count: u64,
    pub time_ns: u64,
}

impl KindTally {
    fn add(&mut self, ns: u64) {
        self.count += 1;
        self.time_ns = self.time_ns.saturating_add(ns);
    }
}

/// Running GC counters of one isolate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcTallies {
    pub scavenge: KindTally,
    pub minor_mark_sweep: KindTally,
    pub mark_sweep_compact: KindTally,
    pub incremental_marking: KindTally,
    pub process_weak_callbacks: KindTally,
    /// Full GCs whose flags asked V8 to reduce memory (forced or
    /// collect-all-available-garbage GCs, which compact every fragmented page).
    pub compactions: u64,
}

impl GcTallies {
    /// Counts one finished GC of kind `gc_type` that took `ns` nanoseconds.
    pub fn record(&mut self, gc_type: u32, flags: u32, ns: u64) {
        use crate::v8::gc_flags::{COLLECT_ALL_AVAILABLE_GARBAGE, FORCED};
        match gc_type {
            gc_type::SCAVENGE => self.scavenge.add(ns),
            gc_type::MINOR_MARK_SWEEP => self.minor_mark_sweep.add(ns),
            gc_type::MARK_SWEEP_COMPACT => {
                self.mark_sweep_compact.add(ns);
                if flags & (FORCED | COLLECT_ALL_AVAILABLE_GARBAGE) != 0 {
                    self.compactions += 1;
                }
            }
            gc_type::INCREMENTAL_MARKING => self.incremental_marking.add(ns),
            gc_type::PROCESS_WEAK_CALLBACKS => self.process_weak_callbacks.add(ns),
            _ => {}
        }
    }

    /// memwatch's `num_inc_gc`: every GC that is not a full one (scavenges,
    /// minor mark-sweeps and incremental-marking steps; weak-callback
    /// processing is a phase, not a GC).
    pub fn non_full(&self) -> u64 {
        self.scavenge.count + self.minor_mark_sweep.count + self.incremental_marking.count
    }
}

/// Index of a GC kind in per-kind arrays (0..5), for start-time slots.
pub fn kind_slot(gc_type: u32) -> Option<usize> {
    (gc_type != 0 && gc_type <= gc_type::ALL).then(|| gc_type.trailing_zeros() as usize)
}

/// Everything known about one full GC when it ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FullGc {
    /// Wall clock at the end of the GC, milliseconds since the epoch.
    pub ts_ms: f64,
    /// How long the GC (or, for `gc()`, the whole forced collection) took.
    pub pause_ns: u64,
    pub heap: HeapStatistics,
    pub tallies: GcTallies,
    /// True for the collection run by `gc()`.
    pub forced: bool,
}

/// memwatch's base tracking: moving averages, extremes and trend.
#[derive(Debug, Clone, Default)]
pub struct StatsEngine {
    observed: u64,
    recent: f64,
    ancient: f64,
    min: u64,
    max: u64,
}

/// Averaging period of `estimated_base` (in full GCs).
pub const RECENT_PERIOD: u64 = 10;
/// Averaging period of the long-term base `usage_trend` compares against.
pub const ANCIENT_PERIOD: u64 = 120;

impl StatsEngine {
    /// Feeds one full GC and returns its `stats` payload.
    pub fn observe(&mut self, gc: &FullGc) -> Stats {
        let base = gc.heap.used_heap_size;
        self.observed += 1;
        let n = self.observed;
        let b = base as f64;
        if n == 1 {
            self.recent = b;
            self.ancient = b;
            self.min = base;
            self.max = base;
        } else {
            // Weight 1/n while warming up makes each average the exact mean
            // of the samples so far; after that it is an exponential average.
            self.recent += (b - self.recent) / n.min(RECENT_PERIOD) as f64;
            self.ancient += (b - self.ancient) / n.min(ANCIENT_PERIOD) as f64;
            self.min = self.min.min(base);
            self.max = self.max.max(base);
        }
        let trend = if self.ancient > 0.0 {
            (self.recent - self.ancient) / self.ancient * 100.0
        } else {
            0.0
        };
        let t = &gc.tallies;
        let h = &gc.heap;
        Stats {
            num_full_gc: t.mark_sweep_compact.count as f64,
            num_inc_gc: t.non_full() as f64,
            heap_compactions: t.compactions as f64,
            usage_trend: trend,
            current_base: base as f64,
            estimated_base: self.recent.round(),
            min: self.min as f64,
            max: self.max as f64,
            gc_ts: (gc.ts_ms * 1000.0).round(),
            gc_time: gc.pause_ns as f64,
            pause_ms: gc.pause_ns as f64 / 1e6,
            forced: gc.forced,
            gc_scavenge_count: t.scavenge.count as f64,
            gc_scavenge_time: t.scavenge.time_ns as f64,
            gc_minor_mark_sweep_count: t.minor_mark_sweep.count as f64,
            gc_minor_mark_sweep_time: t.minor_mark_sweep.time_ns as f64,
            gc_mark_sweep_compact_count: t.mark_sweep_compact.count as f64,
            gc_mark_sweep_compact_time: t.mark_sweep_compact.time_ns as f64,
            gc_incremental_marking_count: t.incremental_marking.count as f64,
            gc_incremental_marking_time: t.incremental_marking.time_ns as f64,
            gc_process_weak_callbacks_count: t.process_weak_callbacks.count as f64,
            gc_process_weak_callbacks_time: t.process_weak_callbacks.time_ns as f64,
            total_heap_size: h.total_heap_size as f64,
            total_heap_size_executable: h.total_heap_size_executable as f64,
            total_physical_size: h.total_physical_size as f64,
            total_available_size: h.total_available_size as f64,
            used_heap_size: h.used_heap_size as f64,
            heap_size_limit: h.heap_size_limit as f64,
            malloced_memory: h.malloced_memory as f64,
            peak_malloced_memory: h.peak_malloced_memory as f64,
            external_memory: h.external_memory as f64,
            number_of_native_contexts: h.number_of_native_contexts as f64,
            number_of_detached_contexts: h.number_of_detached_contexts as f64,
            total_global_handles_size: h.total_global_handles_size as f64,
            used_global_handles_size: h.used_global_handles_size as f64,
            total_allocated_bytes: h.total_allocated_bytes.map(|v| v as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gc(base: u64) -> FullGc {
        FullGc {
            ts_ms: 1_700_000_000_000.0,
            pause_ns: 2_500_000,
            heap: HeapStatistics {
                used_heap_size: base,
                ..Default::default()
            },
            tallies: GcTallies::default(),
            forced: false,
        }
    }

    #[test]
    fn first_gc_sets_every_base_and_no_trend() {
        let mut e = StatsEngine::default();
        let s = e.observe(&gc(10_000_000));
        assert_eq!(s.current_base, 10_000_000.0);
        assert_eq!(s.estimated_base, 10_000_000.0);
        assert_eq!((s.min, s.max), (10_000_000.0, 10_000_000.0));
        assert_eq!(s.usage_trend, 0.0);
        assert_eq!(s.pause_ms, 2.5);
        assert_eq!(s.gc_ts, 1_700_000_000_000_000.0);
    }

    #[test]
    fn warm_up_is_the_exact_mean() {
        let mut e = StatsEngine::default();
        let mut last = None;
        for b in [10u64, 20, 30, 40] {
            last = Some(e.observe(&gc(b * 1_000_000)));
        }
        // mean of 10, 20, 30, 40 MB; memwatch's integer maths made this dead code
        assert_eq!(last.unwrap().estimated_base, 25_000_000.0);
    }

    #[test]
    fn shrinking_heap_gives_a_negative_trend() {
        let mut e = StatsEngine::default();
        for _ in 0..30 {
            e.observe(&gc(100_000_000));
        }
        let mut s = e.observe(&gc(90_000_000));
        for _ in 0..5 {
            s = e.observe(&gc(90_000_000));
        }
        assert!(s.usage_trend < 0.0, "trend {}", s.usage_trend);
        assert!(s.usage_trend > -10.0, "trend {}", s.usage_trend);
        assert_eq!(s.min, 90_000_000.0);
        assert_eq!(s.max, 100_000_000.0);
    }

    #[test]
    fn bases_above_4_gib_do_not_overflow() {
        let mut e = StatsEngine::default();
        let big = 6 * 1024 * 1024 * 1024u64;
        e.observe(&gc(big));
        let s = e.observe(&gc(big + 1024));
        assert_eq!(s.current_base, (big + 1024) as f64);
        assert!(s.usage_trend >= 0.0);
        assert_eq!(s.max, (big + 1024) as f64);
    }

    #[test]
    fn tallies_count_each_kind_and_split_full_from_the_rest() {
        use crate::v8::gc_flags::FORCED;
        let mut t = GcTallies::default();
        t.record(gc_type::SCAVENGE, 0, 100);
        t.record(gc_type::SCAVENGE, 0, 50);
        t.record(gc_type::INCREMENTAL_MARKING, 0, 10);
        t.record(gc_type::PROCESS_WEAK_CALLBACKS, 0, 5);
        t.record(gc_type::MARK_SWEEP_COMPACT, 0, 1000);
        t.record(gc_type::MARK_SWEEP_COMPACT, FORCED, 1000);
        assert_eq!(
            t.scavenge,
            KindTally {
                count: 2,
                time_ns: 150
            }
        );
        assert_eq!(t.mark_sweep_compact.count, 2);
        assert_eq!(t.compactions, 1);
        assert_eq!(t.non_full(), 3);
        assert_eq!(t.process_weak_callbacks.count, 1);
    }

    #[test]
    fn kind_slots_cover_each_bit_once() {
        let slots: Vec<_> = [1, 2, 4, 8, 16].iter().map(|&k| kind_slot(k)).collect();
        assert_eq!(slots, vec![Some(0), Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(kind_slot(0), None);
        assert_eq!(kind_slot(64), None);
    }
}
