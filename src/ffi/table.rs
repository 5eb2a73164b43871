//! Which V8 symbols and struct layouts each verified Node major uses.
//!
//! Only majors listed here use the V8 backend; any other major (or a missing
//! symbol) makes the caller fall back to N-API and JS, never guess.

use std::ffi::CStr;

/// The per-major facts this module depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Node major version.
    pub major: u32,
    /// `sizeof(v8::HeapStatistics)`: 112 up to Node 24, 120 from Node 26
    /// (`total_allocated_bytes` appended).
    pub heap_statistics_size: usize,
    /// Mangled `HeapProfiler::TakeHeapSnapshot(ActivityControl*, <resolver>*, bool, bool)`;
    /// the resolver type was renamed in Node 26.
    pub take_heap_snapshot: &'static CStr,
    /// How `v8::AllocationProfile` (the sampling heap profiler's result) is
    /// read in place; `None` where that was not verified.
    pub allocation_profile: Option<AllocationProfileLayout>,
    /// Where a heap census reads an object's map and size; `None` where no
    /// census layout is verified.
    pub census: Option<CensusLayout>,
}

/// The parts of `v8::AllocationProfile` read without headers: a C++ object
/// with a vtable, and its tree of `AllocationProfile::Node`s (Itanium C++
/// ABI: Linux and macOS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocationProfileLayout {
    /// vtable slot of `Node* GetRootNode()`.
    pub root_node_slot: usize,
    /// vtable slot of the deleting destructor (D0), which frees the object.
    pub deleting_dtor_slot: usize,
    /// `sizeof(AllocationProfile::Node)`, checked against the mirror struct.
    pub node_size: usize,
}

/// Node 20–26 (V8 11.3–14.6): the header declares `GetRootNode`,
/// `GetSamples` and a virtual destructor, so the Itanium vtable is
/// `GetRootNode`, `GetSamples`, D1, D0 (read from each binary's
/// `_ZTVN2v88internal17AllocationProfileE`); `Node` is 88 bytes in all four
/// (only `Sample`, which is not read, grew in Node 26).
const ALLOCATION_PROFILE_20_26: AllocationProfileLayout = AllocationProfileLayout {
    root_node_slot: 0,
    deleting_dtor_slot: 3,
    node_size: 88,
};

/// Where a census reads an object's map and size (per Node major, in
/// [`Layout::census`]); checked against V8's postmortem metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CensusLayout {
    /// Offset of the map word in every heap object
    /// (`v8dbg_class_HeapObject__map__Map`).
    pub map_offset: usize,
    /// Offset of `Map::instance_size_in_words`, one byte
    /// (`v8dbg_class_Map__instance_size_in_words__char`).
    pub instance_size_in_words_offset: usize,
    /// The tag of a heap object pointer (`v8dbg_HeapObjectTag`).
    pub heap_object_tag: usize,
    /// Bytes per word (`v8dbg_SystemPointerSize`); tagged values are this
    /// wide only without pointer compression, which the map offset of
    /// `instance_size_in_words` (one word after the map) confirms.
    pub pointer_size: usize,
}

/// 64-bit V8 without pointer compression (every official Linux x64 build
/// of Node 20-26): the map word at 0, `instance_size_in_words` in the byte
/// after it, tag 1, 8-byte words. Verified for each major against V8's
/// postmortem metadata and against heap-snapshot self sizes.
const FULL_POINTERS: CensusLayout = CensusLayout {
    map_offset: 0,
    instance_size_in_words_offset: 8,
    heap_object_tag: 1,
    pointer_size: 8,
};

const TAKE_SNAPSHOT_OBJECT_NAME_RESOLVER: &CStr =
    c"_ZN2v812HeapProfiler16TakeHeapSnapshotEPNS_15ActivityControlEPNS0_18ObjectNameResolverEbb";
const TAKE_SNAPSHOT_CONTEXT_NAME_RESOLVER: &CStr =
    c"_ZN2v812HeapProfiler16TakeHeapSnapshotEPNS_15ActivityControlEPNS0_19ContextNameResolverEbb";

const TABLE: &[Layout] = &[
    Layout {
        major: 20,
        heap_statistics_size: 112,
        take_heap_snapshot: TAKE_SNAPSHOT_OBJECT_NAME_RESOLVER,
        allocation_profile: Some(ALLOCATION_PROFILE_20_26),
        census: Some(FULL_POINTERS),
    },
    Layout {
        major: 22,
        heap_statistics_size: 112,
        take_heap_snapshot: TAKE_SNAPSHOT_OBJECT_NAME_RESOLVER,
        allocation_profile: Some(ALLOCATION_PROFILE_20_26),
        census: Some(FULL_POINTERS),
    },
    Layout {
        major: 24,
        heap_statistics_size: 112,
        take_heap_snapshot: TAKE_SNAPSHOT_OBJECT_NAME_RESOLVER,
        allocation_profile: Some(ALLOCATION_PROFILE_20_26),
        census: Some(FULL_POINTERS),
    },
    Layout {
        major: 26,
        heap_statistics_size: 120,
        take_heap_snapshot: TAKE_SNAPSHOT_CONTEXT_NAME_RESOLVER,
        allocation_profile: Some(ALLOCATION_PROFILE_20_26),
        census: Some(FULL_POINTERS),
    },
];

/// Node majors whose layout has been verified.
pub const VERIFIED_MAJORS: [u32; 4] = [20, 22, 24, 26];

/// The verified layout for a Node major, if there is one.
pub fn layout_for(major: u32) -> Option<Layout> {
    TABLE.iter().copied().find(|l| l.major == major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verified_major_has_a_layout_and_no_other_does() {
        for m in VERIFIED_MAJORS {
            assert_eq!(layout_for(m).map(|l| l.major), Some(m));
        }
        for m in [18, 19, 21, 23, 25, 27, 0] {
            assert!(layout_for(m).is_none(), "major {m} must not be guessed");
        }
        assert_eq!(layout_for(26).unwrap().heap_statistics_size, 120);
        assert_eq!(layout_for(24).unwrap().heap_statistics_size, 112);
        for m in VERIFIED_MAJORS {
            assert_eq!(layout_for(m).unwrap().census, Some(FULL_POINTERS));
        }
    }
}
