//! GC pause histograms, one per GC kind, for metrics exporters.
//!
//! Kept in the GC epilogue, so recording is a bucket search over fixed
//! bounds, one increment and one add: no allocation, no clock, no lock.
//! The bounds are fixed (1-2-5 steps from 0.1 ms to 10 s, plus an overflow
//! bucket); an exporter shows any subset of them with exact cumulative
//! counts. Buckets count pauses `<=` their bound, as Prometheus' `le` does.

use super::kind::GcKind;

/// Upper bounds of the pause buckets, nanoseconds, ascending.
pub const PAUSE_BOUNDS_NS: [u64; 16] = [
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Buckets per histogram: one per bound and one for longer pauses.
pub const PAUSE_BUCKETS: usize = PAUSE_BOUNDS_NS.len() + 1;

/// The bucket a pause of `ns` nanoseconds falls in: the first whose bound is
/// at least `ns`, or the overflow bucket.
#[inline]
pub fn bucket_of(ns: u64) -> usize {
    PAUSE_BOUNDS_NS.partition_point(|&bound| bound < ns)
}

/// Pauses of one GC kind: a count per bucket (not cumulative) and the total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PauseHistogram {
    pub buckets: [u64; PAUSE_BUCKETS],
    /// Total pause time, nanoseconds (saturating).
    pub sum_ns: u64,
}

impl PauseHistogram {
    /// Counts one pause of `ns` nanoseconds.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.buckets[bucket_of(ns)] += 1;
        self.sum_ns = self.sum_ns.saturating_add(ns);
    }

    /// Pauses counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// Pause histograms of every GC kind, in [`GcKind::ALL`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcPauses {
    pub kinds: [PauseHistogram; 5],
}

impl GcPauses {
    /// Counts one finished GC of `kind` that took `ns` nanoseconds.
    #[inline]
    pub fn record(&mut self, kind: GcKind, ns: u64) {
        self.kinds[kind.slot()].record(ns);
    }

    /// The histogram of `kind`.
    pub fn of(&self, kind: GcKind) -> &PauseHistogram {
        &self.kinds[kind.slot()]
    }
}

#[cfg(test)]
#[path = "pauses_tests.rs"]
mod tests;
