use super::*;

fn full_gc(base: u64) -> FullGc {
    FullGc {
        ts_ms: 1_700_000_000_000.0,
        pause_ns: 2_500_000,
        heap: HeapStatistics {
            used_heap_size: base,
            heap_size_limit: 4 << 30,
            ..Default::default()
        },
        tallies: GcTallies::default(),
        forced: false,
    }
}

#[test]
fn stats_carry_the_gc_and_the_base_figures() {
    let base = BaseStats {
        estimated_base: 9.0,
        usage_trend: -1.5,
        min: 7,
        max: 11,
    };
    let s = Stats::new(&full_gc(10_000_000), &base);
    assert_eq!(s.current_base, 10_000_000.0);
    assert_eq!(s.used_heap_size, 10_000_000.0);
    assert_eq!(s.heap_size_limit, (4u64 << 30) as f64);
    assert_eq!(s.pause_ms, 2.5);
    assert_eq!(s.gc_time, 2_500_000.0);
    assert_eq!(s.gc_ts, 1_700_000_000_000_000.0);
    assert_eq!(
        (s.estimated_base, s.usage_trend, s.min, s.max),
        (9.0, -1.5, 7.0, 11.0)
    );
    assert_eq!(s.total_allocated_bytes, None);
}

#[test]
fn fallback_tallies_map_by_name() {
    let k = |count, time_ns| FallbackKindTally { count, time_ns };
    let gc = FallbackGc {
        ts_ms: 5.0,
        pause_ns: -3.0,
        forced: true,
        heap: JsHeapStatistics {
            total_heap_size: 1.0,
            total_heap_size_executable: 2.0,
            total_physical_size: 3.0,
            total_available_size: 4.0,
            used_heap_size: 5.0,
            heap_size_limit: 6.0,
            malloced_memory: 7.0,
            peak_malloced_memory: 8.0,
            external_memory: None,
            number_of_native_contexts: 1.0,
            number_of_detached_contexts: f64::NAN,
            total_global_handles_size: Some(9.0),
            used_global_handles_size: None,
            total_allocated_bytes: Some(10.0),
        },
        tallies: FallbackTallies {
            scavenge: k(1.0, 10.0),
            minor_mark_sweep: k(2.0, 20.0),
            mark_sweep_compact: k(3.0, 30.0),
            incremental_marking: k(4.0, 40.0),
            process_weak_callbacks: k(5.0, 50.0),
            compactions: 6.0,
        },
    };
    let f = FullGc::from(gc);
    assert_eq!(f.pause_ns, 0, "negative becomes 0");
    assert!(f.forced);
    assert_eq!(f.heap.used_heap_size, 5);
    assert_eq!(f.heap.number_of_detached_contexts, 0, "NaN becomes 0");
    assert_eq!(f.heap.total_allocated_bytes, Some(10));
    let t = f.tallies;
    assert_eq!((t.scavenge.count, t.scavenge.time_ns), (1, 10));
    assert_eq!(
        (t.minor_mark_sweep.count, t.minor_mark_sweep.time_ns),
        (2, 20)
    );
    assert_eq!(
        (t.mark_sweep_compact.count, t.mark_sweep_compact.time_ns),
        (3, 30)
    );
    assert_eq!(
        (t.incremental_marking.count, t.incremental_marking.time_ns),
        (4, 40)
    );
    assert_eq!(
        (
            t.process_weak_callbacks.count,
            t.process_weak_callbacks.time_ns
        ),
        (5, 50)
    );
    assert_eq!(t.compactions, 6);
}

#[test]
fn config_round_trips_and_names_bad_counts_as_js_prints_them() {
    let defaults = Config::from_parts(
        &LeakConfig::default(),
        &ProbeConfig::default(),
        SuspectsConfig::default(),
    );
    assert_eq!(defaults.suspects_max_heap_bytes, 134_217_728.0);
    let (leak, probe, suspects) = defaults.to_parts().expect("defaults are valid");
    assert_eq!(Config::from_parts(&leak, &probe, suspects), defaults);
    let bad = |c: Config| c.to_parts().map(|_| ()).unwrap_err();
    assert_eq!(
        bad(Config {
            classic_streak: 1_099_511_627_776.0,
            ..defaults.clone()
        }),
        (
            "classicStreak",
            "classicStreak must be an integer from 1 to 1000, got 1099511627776".into()
        )
    );
    assert_eq!(
        bad(Config {
            min_growth_bytes: 1e30,
            ..defaults.clone()
        }),
        (
            "minGrowthBytes",
            "minGrowthBytes must be an integer from 0 to 9007199254740991, got 1e+30".into()
        )
    );
    assert_eq!(
        bad(Config {
            suspects_max_heap_bytes: -1.0,
            ..defaults.clone()
        }),
        (
            "suspectsMaxHeapBytes",
            "suspectsMaxHeapBytes must be an integer from 0 to 9007199254740991, got -1".into()
        )
    );
    let (_, _, suspects) = Config {
        suspects: false,
        suspects_max_heap_bytes: 0.0,
        ..defaults.clone()
    }
    .to_parts()
    .unwrap();
    assert_eq!(
        suspects,
        SuspectsConfig {
            on: false,
            max_heap_bytes: 0
        }
    );
    assert_eq!(
        bad(Config {
            window_ms: f64::INFINITY,
            ..defaults.clone()
        })
        .1,
        "windowMs must be a number from 60000 to 604800000, got Infinity"
    );
}

#[test]
fn heap_diff_times_are_dates_to_the_millisecond() {
    assert_eq!(
        date(1_700_000_000_123.9).timestamp_millis(),
        1_700_000_000_123
    );
    assert_eq!(date(f64::NAN).timestamp_millis(), 0);
}

#[test]
fn metrics_carry_the_pause_histograms_in_seconds_by_kind() {
    use crate::gc::kind::GcKind;
    use crate::gc::pauses::{GcPauses, PAUSE_BUCKETS};
    let mut p = GcPauses::default();
    p.record(GcKind::Scavenge, 150_000);
    p.record(GcKind::Scavenge, 1_500_000);
    p.record(GcKind::MarkSweepCompact, 12_000_000_000);
    let status = LeakStatusInfo::new(true, &LeakStatus::default(), 5_000_000, 2);
    let m = Metrics::new(status, 4 << 30, &p);
    assert_eq!(m.heap_size_limit, (4u64 << 30) as f64);
    assert_eq!(m.pause_bounds.len(), PAUSE_BUCKETS - 1);
    assert_eq!(m.pause_bounds[0], 0.0001);
    assert_eq!(m.pause_bounds[3], 0.001);
    assert_eq!(*m.pause_bounds.last().unwrap(), 10.0);
    let s = &m.gc_pauses.scavenge;
    assert_eq!(s.count, 2.0);
    assert_eq!(s.buckets.len(), PAUSE_BUCKETS);
    assert_eq!((s.buckets[1], s.buckets[4]), (1.0, 1.0));
    assert!((s.sum - 0.00165).abs() < 1e-12, "{}", s.sum);
    let full = &m.gc_pauses.mark_sweep_compact;
    assert_eq!((full.count, full.buckets[PAUSE_BUCKETS - 1]), (1.0, 1.0));
    assert_eq!(full.sum, 12.0);
    assert_eq!(m.gc_pauses.incremental_marking.count, 0.0);
    assert_eq!((m.leak.last_base, m.leak.leaks), (5_000_000.0, 2.0));
}

#[test]
fn pause_kinds_map_to_gc_kinds_in_slot_order() {
    use crate::gc::kind::GcKind;
    let kinds = [
        PauseKind::Scavenge,
        PauseKind::MinorMarkSweep,
        PauseKind::MarkSweepCompact,
        PauseKind::IncrementalMarking,
        PauseKind::ProcessWeakCallbacks,
    ];
    let mapped: Vec<GcKind> = kinds.iter().map(|&k| k.into()).collect();
    assert_eq!(mapped, GcKind::ALL.to_vec());
}
