//! GC accounting and memwatch's `stats` maths, on plain data.
//!
//! Nothing here touches N-API or V8: GC callbacks feed [`GcTallies::record`],
//! full GCs become [`FullGc`] samples, and [`StatsEngine::observe`] adds
//! memwatch's base tracking ([`BaseStats`]); the `stats` payload is built from
//! both. All maths is 64-bit or float: no overflow above 4 GiB, a signed
//! trend, and an exact running mean while warming up.

use super::kind::{GcFlags, GcKind};

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
    /// Counts one finished GC of `kind` that took `ns` nanoseconds.
    pub fn record(&mut self, kind: GcKind, flags: GcFlags, ns: u64) {
        match kind {
            GcKind::Scavenge => self.scavenge.add(ns),
            GcKind::MinorMarkSweep => self.minor_mark_sweep.add(ns),
            GcKind::MarkSweepCompact => {
                self.mark_sweep_compact.add(ns);
                if flags.reduces_memory() {
                    self.compactions += 1;
                }
            }
            GcKind::IncrementalMarking => self.incremental_marking.add(ns),
            GcKind::ProcessWeakCallbacks => self.process_weak_callbacks.add(ns),
        }
    }

    /// memwatch's `num_inc_gc`: every GC that is not a full one (scavenges,
    /// minor mark-sweeps and incremental-marking steps; weak-callback
    /// processing is a phase, not a GC).
    pub fn non_full(&self) -> u64 {
        self.scavenge.count + self.minor_mark_sweep.count + self.incremental_marking.count
    }
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

/// memwatch's figures for one full GC, from the full GCs observed so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaseStats {
    /// Moving average of the base over the last [`RECENT_PERIOD`] observed
    /// full GCs (the exact mean while fewer), rounded to a byte.
    pub estimated_base: f64,
    /// Percent by which `estimated_base` is above (+) or below (-) the
    /// long-term base ([`ANCIENT_PERIOD`] GCs); 0 on the first GC.
    pub usage_trend: f64,
    /// Smallest base observed.
    pub min: u64,
    /// Largest base observed.
    pub max: u64,
}

impl StatsEngine {
    /// Feeds one full GC and returns memwatch's figures after it.
    pub fn observe(&mut self, gc: &FullGc) -> BaseStats {
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
        let usage_trend = if self.ancient > 0.0 {
            (self.recent - self.ancient) / self.ancient * 100.0
        } else {
            0.0
        };
        BaseStats {
            estimated_base: self.recent.round(),
            usage_trend,
            min: self.min,
            max: self.max,
        }
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
