use super::*;

#[test]
fn bounds_ascend_in_1_2_5_steps_from_a_tenth_of_a_ms_to_10_s() {
    assert_eq!(PAUSE_BOUNDS_NS[0], 100_000);
    assert_eq!(*PAUSE_BOUNDS_NS.last().unwrap(), 10_000_000_000);
    for w in PAUSE_BOUNDS_NS.windows(2) {
        let ratio = w[1] as f64 / w[0] as f64;
        assert!(
            [2.0, 2.5].contains(&ratio),
            "{} -> {}: ratio {ratio}",
            w[0],
            w[1]
        );
    }
    assert_eq!(PAUSE_BUCKETS, 17);
}

#[test]
fn a_pause_on_a_bound_counts_in_that_bound_s_bucket() {
    // Prometheus' `le`: a bucket counts the values <= its bound.
    for (i, &bound) in PAUSE_BOUNDS_NS.iter().enumerate() {
        assert_eq!(bucket_of(bound), i, "exactly {bound}");
        assert_eq!(bucket_of(bound + 1), i + 1, "just over {bound}");
        assert_eq!(bucket_of(bound - 1), i, "just under {bound}");
    }
    assert_eq!(bucket_of(0), 0);
    assert_eq!(bucket_of(u64::MAX), PAUSE_BUCKETS - 1);
}

#[test]
fn recording_counts_each_pause_once_and_sums_the_time() {
    let mut h = PauseHistogram::default();
    for ns in [
        50_000,
        100_000,
        150_000,
        3_000_000,
        3_000_000,
        20_000_000_000,
    ] {
        h.record(ns);
    }
    let mut want = [0u64; PAUSE_BUCKETS];
    want[0] = 2; // 0.05 ms, 0.1 ms
    want[1] = 1; // 0.15 ms
    want[5] = 2; // 3 ms: (2, 5] ms
    want[16] = 1; // 20 s: over the top bound
    assert_eq!(h.buckets, want);
    assert_eq!(h.count(), 6);
    assert_eq!(
        h.sum_ns,
        50_000 + 100_000 + 150_000 + 6_000_000 + 20_000_000_000
    );
}

#[test]
fn the_sum_saturates_instead_of_wrapping() {
    let mut h = PauseHistogram::default();
    h.record(u64::MAX - 1);
    h.record(10);
    assert_eq!(h.sum_ns, u64::MAX);
    assert_eq!(h.count(), 2);
}

#[test]
fn each_kind_has_its_own_histogram() {
    let mut p = GcPauses::default();
    p.record(GcKind::Scavenge, 300_000);
    p.record(GcKind::Scavenge, 400_000);
    p.record(GcKind::MarkSweepCompact, 40_000_000);
    p.record(GcKind::ProcessWeakCallbacks, 1_000);
    assert_eq!(p.of(GcKind::Scavenge).count(), 2);
    assert_eq!(p.of(GcKind::Scavenge).buckets[2], 2);
    assert_eq!(p.of(GcKind::MarkSweepCompact).buckets[8], 1);
    assert_eq!(p.of(GcKind::ProcessWeakCallbacks).buckets[0], 1);
    assert_eq!(p.of(GcKind::MinorMarkSweep).count(), 0);
    assert_eq!(p.of(GcKind::IncrementalMarking).count(), 0);
}
