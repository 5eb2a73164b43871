//! What V8's GC callback arguments mean: the `GCType` bit of a GC and the
//! `GCCallbackFlags` it ran with (values identical in Node 18-26).

/// The kinds of GC V8 reports, one bit each in `GCType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcKind {
    /// Young-generation scavenge (`kGCTypeScavenge`, 1).
    Scavenge,
    /// Young-generation mark-sweep (`kGCTypeMinorMarkSweep`, 2).
    MinorMarkSweep,
    /// Full mark-sweep-compact (`kGCTypeMarkSweepCompact`, 4).
    MarkSweepCompact,
    /// An incremental-marking step (`kGCTypeIncrementalMarking`, 8).
    IncrementalMarking,
    /// Processing of weak callbacks after a GC (`kGCTypeProcessWeakCallbacks`, 16).
    ProcessWeakCallbacks,
}

impl GcKind {
    /// Every kind, in slot order.
    pub const ALL: [GcKind; 5] = [
        GcKind::Scavenge,
        GcKind::MinorMarkSweep,
        GcKind::MarkSweepCompact,
        GcKind::IncrementalMarking,
        GcKind::ProcessWeakCallbacks,
    ];

    /// The kind of a `GCType` value V8 passed to a callback; `None` for
    /// anything that is not exactly one known bit.
    pub fn from_v8(gc_type: u32) -> Option<GcKind> {
        match gc_type {
            1 => Some(GcKind::Scavenge),
            2 => Some(GcKind::MinorMarkSweep),
            4 => Some(GcKind::MarkSweepCompact),
            8 => Some(GcKind::IncrementalMarking),
            16 => Some(GcKind::ProcessWeakCallbacks),
            _ => None,
        }
    }

    /// Index in per-kind arrays (0..5).
    pub fn slot(self) -> usize {
        self as usize
    }
}

/// `GCCallbackFlags` bits memwatch-rs reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GcFlags(pub u32);

impl GcFlags {
    /// `kGCCallbackFlagForced`: forced by the embedder or an API call.
    const FORCED: u32 = 1 << 2;
    /// `kGCCallbackFlagCollectAllAvailableGarbage`: a memory-reducing GC.
    const COLLECT_ALL_AVAILABLE_GARBAGE: u32 = 1 << 4;

    /// Flags of a GC run by `LowMemoryNotification`: it collects all
    /// available garbage, but V8 says so in the flags only from Node 26 on.
    pub fn with_all_available_garbage(self) -> GcFlags {
        GcFlags(self.0 | Self::COLLECT_ALL_AVAILABLE_GARBAGE)
    }

    /// Flags of a forced GC (as perf_hooks reports it in fallback mode).
    pub fn forced() -> GcFlags {
        GcFlags(Self::FORCED)
    }

    /// A GC that compacts the whole heap: forced, or collecting all
    /// available garbage.
    pub fn reduces_memory(self) -> bool {
        self.0 & (Self::FORCED | Self::COLLECT_ALL_AVAILABLE_GARBAGE) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bit_is_one_kind_in_slot_order() {
        let kinds: Vec<_> = [1, 2, 4, 8, 16]
            .iter()
            .map(|&b| GcKind::from_v8(b))
            .collect();
        assert_eq!(kinds, GcKind::ALL.map(Some).to_vec());
        for (i, k) in GcKind::ALL.iter().enumerate() {
            assert_eq!(k.slot(), i);
        }
        for bad in [0, 3, 31, 32, 64, u32::MAX] {
            assert_eq!(GcKind::from_v8(bad), None, "{bad}");
        }
    }

    #[test]
    fn memory_reducing_flags() {
        assert!(!GcFlags(0).reduces_memory());
        assert!(GcFlags::forced().reduces_memory());
        assert!(GcFlags(0).with_all_available_garbage().reduces_memory());
        assert!(!GcFlags(1 << 3).reduces_memory());
    }
}
