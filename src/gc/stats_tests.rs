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
    assert_eq!(s.estimated_base, 10_000_000.0);
    assert_eq!((s.min, s.max), (10_000_000, 10_000_000));
    assert_eq!(s.usage_trend, 0.0);
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
    assert_eq!(s.min, 90_000_000);
    assert_eq!(s.max, 100_000_000);
}

#[test]
fn bases_above_4_gib_do_not_overflow() {
    let mut e = StatsEngine::default();
    let big = 6 * 1024 * 1024 * 1024u64;
    e.observe(&gc(big));
    let s = e.observe(&gc(big + 1024));
    assert_eq!(s.estimated_base, (2 * big + 1024) as f64 / 2.0);
    assert!(s.usage_trend >= 0.0);
    assert_eq!(s.max, big + 1024);
}

#[test]
fn tallies_count_each_kind_and_split_full_from_the_rest() {
    let none = GcFlags::default();
    let mut t = GcTallies::default();
    t.record(GcKind::Scavenge, none, 100);
    t.record(GcKind::Scavenge, none, 50);
    t.record(GcKind::IncrementalMarking, none, 10);
    t.record(GcKind::ProcessWeakCallbacks, none, 5);
    t.record(GcKind::MarkSweepCompact, none, 1000);
    t.record(GcKind::MarkSweepCompact, GcFlags::forced(), 1000);
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
