use super::*;
use crate::ffi::census::RawGroup;
use crate::gc::leak::LeakReport;

fn named(name: &str, count: u64, bytes: u64) -> RawGroup {
    RawGroup {
        name: RawName::Constructor(name.as_bytes().to_vec()),
        count,
        bytes,
    }
}

fn raw(groups: Vec<RawGroup>) -> RawCensus {
    RawCensus {
        objects: groups.iter().map(|g| g.count).sum(),
        groups,
    }
}

fn census(groups: &[(&str, u64, u64)], time_ms: f64) -> Census {
    Census::new(
        raw(groups.iter().map(|&(n, c, b)| named(n, c, b)).collect()),
        time_ms,
    )
}

#[test]
fn names_merge_and_order_largest_first() {
    let c = Census::new(
        raw(vec![
            named("Foo", 10, 320),
            RawGroup {
                name: RawName::Closure,
                count: 4,
                bytes: 256,
            },
            named("", 2, 48),
            named("Foo", 5, 160), // another string with the same text
            RawGroup {
                name: RawName::Unknown,
                count: 1,
                bytes: 24,
            },
            named("Bar", 8, 256), // ties Closure on bytes, wins on count
            named("Empty", 0, 0),
            named("Caf\u{e9}", 1, 24),
        ]),
        5.0,
    );
    let order: Vec<(&str, u64, u64)> = c
        .groups
        .iter()
        .map(|g| (g.what.as_str(), g.count, g.bytes))
        .collect();
    assert_eq!(
        order,
        vec![
            ("Foo", 15, 480),
            ("Bar", 8, 256),
            ("Closure", 4, 256),
            ("(anonymous)", 2, 48),
            ("(unknown)", 1, 24),
            ("Café", 1, 24),
        ]
    );
    assert_eq!(c.objects, 31);
    assert_eq!(c.bytes, 480 + 256 + 256 + 48 + 24 + 24);
    assert_eq!(c.time_ms, 5.0);
    assert_eq!(c.group("Bar").map(|g| g.count), Some(8));
    assert!(c.group("Empty").is_none(), "empty groups are dropped");
}

#[test]
fn invalid_utf8_is_replaced_not_dropped() {
    let c = Census::new(
        raw(vec![RawGroup {
            name: RawName::Constructor(vec![b'A', 0xFF]),
            count: 1,
            bytes: 8,
        }]),
        0.0,
    );
    assert_eq!(c.groups[0].what, "A\u{FFFD}");
}

#[test]
fn diff_has_heapdiffs_shape_with_net_changes() {
    let before = census(
        &[
            ("Foo", 100, 3200),
            ("Gone", 5, 120),
            ("Same", 7, 56),
            ("HeapDiff", 1, 40),
        ],
        1.0,
    );
    let after = census(
        &[
            ("Foo", 10_100, 323_200),
            ("Same", 7, 56),
            ("New", 3, 72),
            ("HeapDiff", 1, 40),
        ],
        2.0,
    );
    let d = diff(&before, &after, &["HeapDiff", "NativeHeapDiff"]);
    assert_eq!(d.before.nodes, 112);
    assert_eq!(d.before.size_bytes, 3376);
    assert_eq!(d.after.nodes, 10_110);
    assert_eq!(d.after.size_bytes, 323_328);
    assert_eq!((d.before.time_ms, d.after.time_ms), (1.0, 2.0));
    assert_eq!(d.size_bytes, 323_328 - 3376);
    assert_eq!(d.allocated_nodes, 10_003);
    assert_eq!(d.freed_nodes, 5);
    assert_eq!(
        d.before.nodes - d.freed_nodes + d.allocated_nodes,
        d.after.nodes
    );
    let details: Vec<(&str, i64, u64, u64)> = d
        .details
        .iter()
        .map(|x| (x.what.as_str(), x.size_bytes, x.added, x.freed))
        .collect();
    assert_eq!(
        details,
        vec![
            ("Foo", 320_000, 10_000, 0),
            ("Gone", -120, 0, 5),
            ("New", 72, 3, 0),
        ]
    );
    assert_eq!(
        d.details.iter().map(|x| x.size_bytes).sum::<i64>(),
        d.size_bytes
    );
}

#[test]
fn a_group_that_changed_size_but_not_count_is_a_detail() {
    let d = diff(
        &census(&[("Grow", 2, 64)], 0.0),
        &census(&[("Grow", 2, 96)], 0.0),
        &[],
    );
    assert_eq!(d.details.len(), 1);
    assert_eq!(
        (
            d.details[0].size_bytes,
            d.details[0].added,
            d.details[0].freed
        ),
        (32, 0, 0)
    );
}

#[test]
fn suspects_are_the_largest_growth_at_most_ten() {
    let mut before = vec![("Session", 100u64, 6400u64), ("Shrinks", 50, 1600)];
    let mut after = vec![("Session", 5100, 326_400), ("Shrinks", 10, 320)];
    for i in 0..15u64 {
        let name: &'static str = Box::leak(format!("G{i:02}").into_boxed_str());
        before.push((name, 1, 32));
        after.push((name, 1 + i, 32 * (1 + i)));
    }
    after.push(("Flat", 3, 0)); // count grew at equal (zero) bytes
    let s = suspects(&census(&before, 0.0), &census(&after, 1.0), MAX_SUSPECTS);
    assert_eq!(s.len(), 10);
    assert_eq!(
        s[0],
        Growth {
            what: "Session".into(),
            count: 5000,
            bytes: 320_000
        }
    );
    assert_eq!(s[1].what, "G14");
    assert_eq!((s[1].count, s[1].bytes), (14, 448));
    assert!(s.windows(2).all(|w| w[0].bytes >= w[1].bytes));
    assert!(!s.iter().any(|g| g.what == "Shrinks" || g.what == "G00"));
    // Ties on bytes go to the larger count, then the name.
    let t = suspects(
        &census(&[], 0.0),
        &census(&[("B", 2, 64), ("A", 2, 64), ("C", 4, 64)], 0.0),
        10,
    );
    let names: Vec<&str> = t.iter().map(|g| g.what.as_str()).collect();
    assert_eq!(names, ["C", "A", "B"]);
}

fn leak() -> Outcome {
    Outcome::Leak(LeakReport {
        start_ms: 0.0,
        end_ms: 1.0,
        growth: 1,
        gcs: 1,
        reason: String::new(),
        rate: 1.0,
        rate_interval: None,
        confidence: 0.0,
        heap_limit: 0,
        limit_in_ms: None,
        samples: 1,
        repeat: 0,
    })
}

#[test]
fn watch_takes_a_reference_when_watching_begins_and_compares_reports_with_it() {
    let mut w = SuspectWatch::default();
    // The first GC while watching: a reference.
    assert_eq!(w.plan(&Outcome::Nothing, LeakState::Flat), Want::Reference);
    w.set_reference(Ok(census(&[("Session", 10, 640)], 0.0)));
    assert_eq!(w.plan(&Outcome::Nothing, LeakState::Flat), Want::Nothing);
    // A fast leak: reported with no suspicion before it.
    assert_eq!(w.plan(&leak(), LeakState::Leaking), Want::Report);
    let s = w
        .report(Ok(census(&[("Session", 1010, 64_640)], 1.0)))
        .unwrap();
    assert_eq!(s[0].what, "Session");
    assert_eq!(s[0].count, 1000);
    // A repeat compares with the same reference, not with the last report.
    assert_eq!(w.plan(&Outcome::Nothing, LeakState::Leaking), Want::Nothing);
    assert_eq!(w.plan(&leak(), LeakState::Leaking), Want::Report);
    let s = w
        .report(Ok(census(&[("Session", 2010, 128_640)], 2.0)))
        .unwrap();
    assert_eq!(s[0].count, 2000);
    // The leak ends: a fresh reference for the next one.
    assert_eq!(w.plan(&Outcome::Nothing, LeakState::Flat), Want::Reference);
    w.set_reference(Ok(census(&[("Session", 2010, 128_640)], 3.0)));
    // Growth suspected: the reference moves to the start of the rise.
    assert_eq!(
        w.plan(&Outcome::GrowthSuspected, LeakState::Suspected),
        Want::Reference
    );
    w.set_reference(Ok(census(
        &[("Session", 2010, 128_640), ("Order", 5, 160)],
        4.0,
    )));
    assert_eq!(w.plan(&leak(), LeakState::Leaking), Want::Report);
    let s = w
        .report(Ok(census(
            &[("Session", 2010, 128_640), ("Order", 505, 16_160)],
            5.0,
        )))
        .unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].what.as_str(), s[0].count), ("Order", 500));
}

#[test]
fn a_suspicion_that_fades_refreshes_the_reference() {
    let mut w = SuspectWatch::default();
    w.plan(&Outcome::Nothing, LeakState::Flat);
    w.set_reference(Ok(census(&[], 0.0)));
    assert_eq!(
        w.plan(&Outcome::GrowthSuspected, LeakState::Suspected),
        Want::Reference
    );
    w.set_reference(Ok(census(&[], 1.0)));
    assert_eq!(
        w.plan(&Outcome::Nothing, LeakState::Suspected),
        Want::Nothing
    );
    assert_eq!(w.plan(&Outcome::Nothing, LeakState::Flat), Want::Reference);
}

#[test]
fn without_a_reference_there_are_no_suspects_and_the_report_becomes_one() {
    let mut w = SuspectWatch::default();
    assert_eq!(w.plan(&Outcome::Nothing, LeakState::Flat), Want::Reference);
    w.set_reference(Err("V8 failed".into()));
    assert!(!w.has_reference());
    assert_eq!(w.plan(&Outcome::Nothing, LeakState::Flat), Want::Nothing);
    assert_eq!(w.plan(&leak(), LeakState::Leaking), Want::Report);
    let why = w.report(Ok(census(&[("A", 1, 8)], 1.0))).unwrap_err();
    assert!(
        why.contains("no earlier census") && why.contains("(V8 failed)"),
        "{why}"
    );
    assert!(w.has_reference());
    // A failed report census: absent, never wrong, and says why.
    let why = w.report(Err("skipped".into())).unwrap_err();
    assert_eq!(why, "no census for this report: skipped");
    let s = w.report(Ok(census(&[("A", 3, 24)], 2.0))).unwrap();
    assert_eq!((s[0].count, s[0].bytes), (2, 16));
    w.reset();
    assert!(!w.has_reference());
    assert_eq!(
        w.plan(&Outcome::Nothing, LeakState::Flat),
        Want::Reference,
        "after a reset, the next GC takes a reference"
    );
    // A report right after attaching, with no reference due yet.
    w.plan(&leak(), LeakState::Leaking);
    let why = w.report(Ok(census(&[("A", 1, 8)], 3.0))).unwrap_err();
    assert!(
        why.starts_with("no earlier census to compare with yet"),
        "{why}"
    );
}

#[test]
fn a_taken_reference_clears_why_an_earlier_one_was_missing() {
    let mut w = SuspectWatch::default();
    w.plan(&Outcome::Nothing, LeakState::Flat);
    w.set_reference(Err("too big".into()));
    w.plan(&Outcome::GrowthSuspected, LeakState::Suspected);
    w.set_reference(Ok(census(&[("A", 1, 8)], 1.0)));
    w.plan(&leak(), LeakState::Leaking);
    let s = w.report(Ok(census(&[("A", 4, 32)], 2.0))).unwrap();
    assert_eq!(s[0].count, 3);
}

const MB: u64 = 1 << 20;

/// `affordable` before this thread measured a census.
fn affordable_at_idle(
    heap_used: u64,
    max: u64,
    available: impl FnOnce() -> Option<u64>,
) -> Result<(), String> {
    affordable(heap_used, max, None, available)
}

#[test]
fn a_skipped_census_names_the_pause_this_thread_measured() {
    // A census of 64 MiB that took 2 s (a loaded machine): 31.25 ms per MiB.
    let rate = measured_pause_rate(64 * MB, 2.0);
    assert_eq!(rate, Some(2.0 / 64.0));
    let why = affordable(812 * MB, 128 * MB, rate, || None).unwrap_err();
    assert!(
        why.contains(
            "pause this thread for about 25 s (at the 31 ms per MB its last census took) and need \
             about 1.2 GB more memory; raise suspectsMaxHeapBytes"
        ),
        "{why}"
    );
    // Without a measurement, the idle estimate and no claim of one.
    let why = affordable(812 * MB, 128 * MB, None, || None).unwrap_err();
    assert!(why.contains("for about 9.7 s and need"), "{why}");
    // Small heaps do not set the rate (V8's fixed costs dominate), nor do
    // nonsense durations.
    assert_eq!(measured_pause_rate(31 * MB, 2.0), None);
    assert_eq!(measured_pause_rate(32 * MB, 0.0), None);
    assert_eq!(measured_pause_rate(32 * MB, f64::NAN), None);
    assert!(measured_pause_rate(32 * MB, 0.4).is_some());
}

#[test]
fn a_suspects_census_runs_up_to_the_heap_bound() {
    let max = DEFAULT_SUSPECTS_MAX_HEAP_BYTES;
    assert_eq!(affordable_at_idle(max, max, || None), Ok(()));
    assert_eq!(
        affordable_at_idle(10 * MB, max, || Some(64_000 * MB)),
        Ok(())
    );
    let why = affordable_at_idle(812 * MB, max, || None).unwrap_err();
    assert!(why.contains("live heap (812 MB)"), "{why}");
    assert!(why.contains("over suspectsMaxHeapBytes (128 MB)"), "{why}");
    assert!(why.contains("about 9.7 s"), "{why}");
    assert!(why.contains("about 1.2 GB more memory"), "{why}");
    // It names both ways out: the bound, and sampling, which works on any heap.
    assert!(
        why.contains("raise suspectsMaxHeapBytes to allow it, or startSampling()"),
        "{why}"
    );
    // Over the bound, the memory left is not even read.
    assert!(affordable_at_idle(812 * MB, max, || unreachable!("available memory read")).is_err());
    // The bound can be raised, or set to 0 to skip every census.
    assert_eq!(affordable_at_idle(812 * MB, 1 << 40, || None), Ok(()));
    let why = affordable_at_idle(3 * MB, 0, || None).unwrap_err();
    assert!(
        why.contains("live heap (3 MB) is over suspectsMaxHeapBytes (0 KB)"),
        "{why}"
    );
    assert!(why.contains("for under 0.1 s"), "{why}");
}

#[test]
fn a_suspects_census_never_takes_more_than_half_the_memory_left() {
    let max = 1 << 40;
    // 100 MB live needs about 150 MB: fine with 300 MB left, not with less.
    assert_eq!(affordable_at_idle(100 * MB, max, || Some(300 * MB)), Ok(()));
    let why = affordable_at_idle(100 * MB, max, || Some(299 * MB)).unwrap_err();
    assert!(
        why.contains("need about 150 MB more memory and only 299 MB is available"),
        "{why}"
    );
    assert!(
        why.ends_with(
            "startSampling() for the allocation sites that grew, at a fraction of the cost"
        ),
        "{why}"
    );
    // Unknown available memory: only the heap bound applies.
    assert_eq!(affordable_at_idle(100 * MB, max, || None), Ok(()));
}
