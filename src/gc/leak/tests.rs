//! Unit tests of the leak detector: configuration, the classic rule, the
//! rate rule on synthetic sequences and on recorded full-GC sequences
//! (`fixtures/`), status and outcomes, thinning, robustness and formatting.
//! The scenario table of docs/leak-detector.md runs in `scenario_tests.rs`.

use super::*;
use crate::gc::sim::{replay, Rng, EPOCH, NODE_LIMIT};

/// `(name, JSON text)` of every recorded fixture: `[[t_ms, base_bytes], ...]`
/// (Node 20-26, `node --trace-gc`, `t_ms` from process start) or, for the
/// `rec-*` recordings (`__test__/scenarios/record.js`),
/// `[[t_ms, base_bytes, heap_limit_bytes], ...]`.
macro_rules! fixtures {
    ($($name:literal),* $(,)?) => { &[$(($name, include_str!(concat!("fixtures/", $name, ".json")))),*] };
}
// fixtures-begin
const FIXTURES: &[(&str, &str)] = fixtures![
    "bursty-n20-1",
    "bursty-n20-2",
    "bursty-n20-3",
    "bursty-n20-4",
    "bursty-n20-5",
    "bursty-n22-1",
    "bursty-n22-2",
    "bursty-n22-3",
    "bursty-n22-4",
    "bursty-n22-5",
    "bursty-n24-1",
    "bursty-n24-2",
    "bursty-n24-3",
    "bursty-n24-4",
    "bursty-n24-5",
    "bursty-n26-1",
    "bursty-n26-2",
    "bursty-n26-3",
    "bursty-n26-4",
    "bursty-n26-5",
    "churn-cache-n20-1",
    "churn-cache-n20-2",
    "churn-cache-n20-3",
    "churn-cache-n20-4",
    "churn-cache-n20-5",
    "churn-cache-n22-1",
    "churn-cache-n22-2",
    "churn-cache-n22-3",
    "churn-cache-n22-4",
    "churn-cache-n22-5",
    "churn-cache-n24-1",
    "churn-cache-n24-2",
    "churn-cache-n24-3",
    "churn-cache-n24-4",
    "churn-cache-n24-5",
    "churn-cache-n26-1",
    "churn-cache-n26-2",
    "churn-cache-n26-3",
    "churn-cache-n26-4",
    "churn-cache-n26-5",
    "idle-n20-1",
    "idle-n20-2",
    "idle-n20-3",
    "idle-n20-4",
    "idle-n20-5",
    "idle-n22-1",
    "idle-n22-2",
    "idle-n22-3",
    "idle-n22-4",
    "idle-n22-5",
    "idle-n24-1",
    "idle-n24-2",
    "idle-n24-3",
    "idle-n24-4",
    "idle-n24-5",
    "idle-n26-1",
    "idle-n26-2",
    "idle-n26-3",
    "idle-n26-4",
    "idle-n26-5",
    "leak-chain-n20-1",
    "leak-chain-n20-2",
    "leak-chain-n20-3",
    "leak-chain-n20-4",
    "leak-chain-n20-5",
    "leak-chain-n22-1",
    "leak-chain-n22-2",
    "leak-chain-n22-3",
    "leak-chain-n22-4",
    "leak-chain-n22-5",
    "leak-chain-n24-1",
    "leak-chain-n24-2",
    "leak-chain-n24-3",
    "leak-chain-n24-4",
    "leak-chain-n24-5",
    "leak-chain-n26-1",
    "leak-chain-n26-2",
    "leak-chain-n26-3",
    "leak-chain-n26-4",
    "leak-chain-n26-5",
    "leak-listeners-n20-1",
    "leak-listeners-n20-2",
    "leak-listeners-n20-3",
    "leak-listeners-n20-4",
    "leak-listeners-n20-5",
    "leak-listeners-n22-1",
    "leak-listeners-n22-2",
    "leak-listeners-n22-3",
    "leak-listeners-n22-4",
    "leak-listeners-n22-5",
    "leak-listeners-n24-1",
    "leak-listeners-n24-2",
    "leak-listeners-n24-3",
    "leak-listeners-n24-4",
    "leak-listeners-n24-5",
    "leak-listeners-n26-1",
    "leak-listeners-n26-2",
    "leak-listeners-n26-3",
    "leak-listeners-n26-4",
    "leak-listeners-n26-5",
    "leak-slow-n20-1",
    "leak-slow-n20-2",
    "leak-slow-n20-3",
    "leak-slow-n20-4",
    "leak-slow-n20-5",
    "leak-slow-n22-1",
    "leak-slow-n22-2",
    "leak-slow-n22-3",
    "leak-slow-n22-4",
    "leak-slow-n22-5",
    "leak-slow-n24-1",
    "leak-slow-n24-2",
    "leak-slow-n24-3",
    "leak-slow-n24-4",
    "leak-slow-n24-5",
    "leak-slow-n26-1",
    "leak-slow-n26-2",
    "leak-slow-n26-3",
    "leak-slow-n26-4",
    "leak-slow-n26-5",
    "rec-build-drop-10min-v8-n20",
    "rec-build-drop-n20",
    "rec-cache-fill-10min-v8-n20",
    "rec-cache-fill-n20",
    "rec-closure-n20",
    "rec-listener-200k-n20",
    "rec-lru50-10min-v8-n20",
    "rec-lru50-n20",
    "rec-s300-flat-n20",
    "rec-s300-leak-n20",
    "sawtooth-n20-1",
    "sawtooth-n20-2",
    "sawtooth-n20-3",
    "sawtooth-n20-4",
    "sawtooth-n20-5",
    "sawtooth-n22-1",
    "sawtooth-n22-2",
    "sawtooth-n22-3",
    "sawtooth-n22-4",
    "sawtooth-n22-5",
    "sawtooth-n24-1",
    "sawtooth-n24-2",
    "sawtooth-n24-3",
    "sawtooth-n24-4",
    "sawtooth-n24-5",
    "sawtooth-n26-1",
    "sawtooth-n26-2",
    "sawtooth-n26-3",
    "sawtooth-n26-4",
    "sawtooth-n26-5",
];
// fixtures-end

const MB: u64 = 1024 * 1024;
const MBF: f64 = MB as f64;
const HOUR: f64 = 3_600_000.0;
const GB4: u64 = NODE_LIMIT;

/// A fixture as `(t_ms, base, limit)`. The older recordings carry no heap
/// limit: they ran with Node's default on this class of machine (4144 MiB).
fn load(text: &str) -> Vec<(f64, u64, u64)> {
    let rows: Vec<Vec<f64>> =
        serde_json::from_str(text).expect("fixture is [[t_ms, base, limit?], ...]");
    rows.iter()
        .map(|r| {
            (
                r[0],
                r[1] as u64,
                r.get(2).map_or(NODE_LIMIT, |&l| l as u64),
            )
        })
        .collect()
}

fn fixture(name: &str) -> Vec<(f64, u64, u64)> {
    let (_, text) = FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    load(text)
}

fn kind(name: &str) -> &'static str {
    if name.starts_with("rec-") {
        "recorded-scenario"
    } else if name.starts_with("leak-chain-") || name.starts_with("leak-listeners-") {
        "fast-leak"
    } else if name.starts_with("leak-") {
        "slow-leak"
    } else {
        "no-leak"
    }
}

/// Feeds `(t_ms, base)` pairs (epoch-shifted) with a heap limit; returns the
/// reports.
fn feed_limit(cfg: LeakConfig, limit: u64, seq: &[(f64, u64)]) -> Vec<LeakReport> {
    let mut d = LeakDetector::new(cfg);
    seq.iter()
        .filter_map(|&(t, b)| d.observe(EPOCH + t, b, limit).report())
        .collect()
}

/// As [`feed_limit`] with Node's default heap limit.
fn feed(cfg: LeakConfig, seq: &[(f64, u64)]) -> Vec<LeakReport> {
    feed_limit(cfg, GB4, seq)
}

fn classic() -> LeakConfig {
    LeakConfig {
        rule: LeakRule::Classic,
        ..LeakConfig::default()
    }
}

/// `base(t)` sampled every `every_ms` up to `until_ms`, plus uniform noise
/// in `0..noise` bytes.
fn series(
    until_ms: f64,
    every_ms: f64,
    noise: f64,
    seed: u64,
    base: impl Fn(f64) -> f64,
) -> Vec<(f64, u64)> {
    let mut rng = Rng(seed);
    let mut out = vec![];
    let mut t = 0.0;
    while t <= until_ms {
        out.push((t, (base(t) + noise * rng.unit()) as u64));
        t += every_ms;
    }
    out
}

/// A leak of `mb_h` MB/hour from `from_mb`, GC every `every_ms`, noise MB.
fn leak(
    from_mb: f64,
    mb_h: f64,
    every_ms: f64,
    until_ms: f64,
    noise_mb: f64,
    seed: u64,
) -> Vec<(f64, u64)> {
    series(until_ms, every_ms, noise_mb * MBF, seed, |t| {
        (from_mb + mb_h * t / HOUR) * MBF
    })
}

fn assert_sane(r: &LeakReport) {
    assert!(r.end_ms >= r.start_ms, "{r:?}");
    assert!(r.gcs >= 1, "{r:?}");
    for bad in ["NaN", "inf", "-2147483648", "- -"] {
        assert!(!r.reason.contains(bad), "{r:?}");
    }
    assert!(r.reason.starts_with("heap growth over "), "{r:?}");
    assert!(r.rate.is_finite(), "{r:?}");
    if let Some((lo, hi)) = r.rate_interval {
        assert!(lo <= r.rate && r.rate <= hi, "{r:?}");
        assert!(lo > 0.0, "reported with a non-positive lower bound: {r:?}");
    }
    assert!(r.reason.len() <= 120, "{r:?}");
}

// ---- recorded fixtures -------------------------------------------------

#[test]
fn fixture_list_is_complete() {
    // The fixtures directory next to this file, wherever the crate root is.
    let here = std::path::Path::new(file!());
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest
        .ancestors()
        .map(|a| a.join(here).with_file_name("fixtures"))
        .find(|d| d.is_dir())
        .expect("fixtures/ next to tests.rs");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "regenerate the FIXTURES list");
    for (name, text) in FIXTURES {
        let v = load(text);
        assert!(
            v.windows(2).all(|w| w[0].0 <= w[1].0),
            "{name}: times must not go back"
        );
        assert!(v.iter().all(|g| g.2 > 0), "{name}: heap limit");
    }
}

#[test]
fn recorded_fast_leaks_are_reported_near_the_heap_limit() {
    // 7 MB/s leaks (retention chain, listeners) on Node 20-26 with Node's
    // default heap limit, with V8's own sparse full GCs (3-15 in the first
    // minute). At ~25 GB/h the limit is minutes away, so the grace period is
    // skipped: reported at the first GC that completes minDurationMs (15 s)
    // of rise with enough GCs, measured from the first base.
    let (mut runs, mut reported, mut in_30s) = (0, 0, 0);
    for (name, text) in FIXTURES.iter().filter(|(n, _)| kind(n) == "fast-leak") {
        let v = load(text);
        runs += 1;
        let r = replay(LeakConfig::default(), &v);
        let (t, first) = r
            .reports
            .first()
            .unwrap_or_else(|| panic!("{name}: never reported"));
        reported += 1;
        assert_sane(first);
        assert_eq!(
            first.start_ms,
            EPOCH + v[0].0,
            "{name}: from the first base"
        );
        let end = v.iter().find(|g| EPOCH + g.0 == first.end_ms).unwrap();
        assert_eq!(first.growth, end.1 - v[0].1, "{name}: growth");
        assert!(first.end_ms - first.start_ms >= 15_000.0, "{name}");
        // The estimate brackets the recorded average rate.
        let avg = (end.1 - v[0].1) as f64 / (end.0 - v[0].0) * HOUR;
        let (lo, hi) = first.rate_interval.unwrap();
        assert!(
            lo <= avg * 1.05 && hi >= avg * 0.95,
            "{name}: {avg} vs {first:?}"
        );
        assert!(first.limit_in_ms.unwrap() < 900_000.0, "{name}: {first:?}");
        assert_eq!(first.confidence, 0.8, "{name}: decided near the limit");
        assert!(
            first.reason.contains(", heap limit in ~"),
            "{name}: {first:?}"
        );
        if *t <= 30.0 {
            in_30s += 1;
        }
    }
    assert_eq!((runs, reported), (40, 40));
    // Measured: 30 of 40 within 30 s of process start; the others have no
    // full GC between 15 s and 30 s after their first (see
    // min_duration_tradeoff). With the prober, growth this fast is sampled
    // every few seconds.
    assert!(in_30s >= 30, "{in_30s} within 30 s");
}

#[test]
fn recorded_slow_leaks_are_suspected_within_the_grace_period() {
    // 0.3 MB/s on a 5-40 MB heap for 2 minutes: growth is seen within a
    // minute, but the heap limit is hours away, so no report before the
    // 2-minute grace period (the recordings stop at ~2 min).
    for (name, text) in FIXTURES.iter().filter(|(n, _)| kind(n) == "slow-leak") {
        let v = load(text);
        let r = replay(LeakConfig::default(), &v);
        assert!(r.reports.is_empty(), "{name}: {:?}", r.reports);
        let first = r.suspected.first().copied();
        assert!(
            first.is_some_and(|t| t <= 60.0),
            "{name}: suspected at {first:?}"
        );
        if name.ends_with("n24-2") {
            continue; // its last GC fell to 4 MB: the run ended by freeing
        }
        assert_eq!(r.status.state, LeakState::Suspected, "{name}");
        if v.len() < 4 {
            continue; // leak-slow-n20-1: 3 GCs, too few for a 95% interval
        }
        let (lo, hi) = r.status.rate_interval.unwrap();
        // ~0.3 MB/s: the recording's own average rate.
        let (a, b) = (v[0], v[v.len() - 1]);
        let avg = (b.1 - a.1) as f64 / (b.0 - a.0) * HOUR;
        assert!(
            lo < avg * 1.05 && hi > avg * 0.95,
            "{name}: {avg} {:?}",
            r.status
        );
    }
}

#[test]
fn recorded_non_leaks_are_never_reported() {
    let mut n = 0;
    for (name, text) in FIXTURES.iter().filter(|(n, _)| kind(n) == "no-leak") {
        let r = replay(LeakConfig::default(), &load(text));
        assert!(r.reports.is_empty(), "{name}: {:?}", r.reports);
        n += 1;
    }
    assert_eq!(n, 80);
}

#[test]
fn recorded_scenarios_match_the_table() {
    // Real runs of __test__/scenarios/*.js on Node 20: the fallback-style
    // recorder (record.js, a full GC at least every 10 s) and, for the
    // `-10min-v8` ones, memwatch-rs's own V8 backend and probe for 10
    // minutes. Leaks: reported within their bound from the process start
    // (which includes building the 300 MB table); quiet shapes: never.
    let leaks = [
        ("rec-s300-leak-n20", 300.0),
        ("rec-closure-n20", 300.0),
        ("rec-listener-200k-n20", 180.0),
    ];
    for (name, bound) in leaks {
        let r = replay(LeakConfig::default(), &fixture(name));
        let (t, first) = r
            .reports
            .first()
            .unwrap_or_else(|| panic!("{name}: never reported"));
        assert!(*t <= bound, "{name}: reported at {t} s, bound {bound} s");
        assert_sane(first);
    }
    for name in [
        "rec-s300-flat-n20",
        "rec-cache-fill-n20",
        "rec-lru50-n20",
        "rec-build-drop-n20",
        "rec-cache-fill-10min-v8-n20",
        "rec-lru50-10min-v8-n20",
        "rec-build-drop-10min-v8-n20",
    ] {
        let v = fixture(name);
        let r = replay(LeakConfig::default(), &v);
        assert!(r.reports.is_empty(), "{name}: {:?}", r.reports);
        if name.contains("10min") {
            assert!(v[v.len() - 1].0 >= 500_000.0, "{name}: a 10-minute run");
        }
    }
}

#[test]
fn classic_still_fires_on_churn_where_the_rate_rule_does_not() {
    // Classic's defect, kept for compatibility: it fires on some no-leak runs.
    let classic_false = FIXTURES
        .iter()
        .filter(|(n, _)| kind(n) == "no-leak")
        .filter(|(_, text)| !replay(classic(), &load(text)).reports.is_empty())
        .count();
    assert!(classic_false >= 1, "classic false reports: {classic_false}");
}

// ---- the classic rule --------------------------------------------------

#[test]
fn classic_on_a_recorded_listener_leak() {
    // leak-listeners-n20-1: 13 full GCs, all growing. Classic fires at the
    // 6th GC (5 growths after the first) and again 5 growths later.
    let v = fixture("leak-listeners-n20-1");
    let r = replay(classic(), &v);
    let r: Vec<&LeakReport> = r.reports.iter().map(|(_, r)| r).collect();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].start_ms, EPOCH + v[0].0);
    assert_eq!(r[0].end_ms, EPOCH + v[5].0);
    assert_eq!(r[0].growth, v[5].1 - v[0].1);
    assert_eq!(r[1].start_ms, EPOCH + v[5].0);
    assert_eq!(r[1].end_ms, EPOCH + v[10].0);
    assert!(r[0]
        .reason
        .starts_with("heap growth over 5 consecutive GCs ("));
    // The new fields: a plain average rate, no interval, the heap limit.
    let avg = r[0].growth as f64 / (r[0].end_ms - r[0].start_ms) * HOUR;
    assert!((r[0].rate - avg).abs() < 1.0, "{:?}", r[0]);
    assert_eq!((r[0].rate_interval, r[0].confidence), (None, 0.0));
    assert_eq!(r[0].heap_limit, NODE_LIMIT);
    assert!(r[0].limit_in_ms.is_some());
    assert_eq!((r[0].samples, r[0].repeat), (6, 0));
}

#[test]
fn classic_first_gc_is_not_growth() {
    let seq: Vec<(f64, u64)> = (0..5).map(|i| (i as f64 * 4000.0, (10 + i) * MB)).collect();
    assert!(feed(classic(), &seq).is_empty(), "5 GCs are only 4 growths");
    let seq: Vec<(f64, u64)> = (0..6).map(|i| (i as f64 * 4000.0, (10 + i) * MB)).collect();
    let r = feed(classic(), &seq);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].gcs, 5);
    assert_eq!(r[0].start_ms, EPOCH);
    assert_eq!(r[0].growth, 5 * MB);
}

#[test]
fn classic_measures_from_the_base_before_growth_and_rearms() {
    let b = [100, 90, 95, 100, 110, 120, 130, 131, 132, 133, 134, 135];
    let seq: Vec<(f64, u64)> = b
        .iter()
        .enumerate()
        .map(|(i, &x)| (i as f64 * 1000.0, x * MB))
        .collect();
    let r = feed(classic(), &seq);
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].start_ms - EPOCH, r[0].end_ms - EPOCH, r[0].growth),
        (1000.0, 6000.0, 40 * MB)
    );
    // re-armed at the reporting GC: the next five growths report again
    assert_eq!(
        (r[1].start_ms - EPOCH, r[1].end_ms - EPOCH, r[1].growth),
        (6000.0, 11000.0, 5 * MB)
    );
}

#[test]
fn classic_equal_or_lower_base_breaks_the_streak() {
    let b = [10, 11, 12, 13, 13, 14, 15, 16, 17, 16, 17, 18, 19];
    let seq: Vec<(f64, u64)> = b
        .iter()
        .enumerate()
        .map(|(i, &x)| (i as f64 * 1000.0, x * MB))
        .collect();
    assert!(feed(classic(), &seq).is_empty());
}

#[test]
fn classic_reason_matches_memwatch_format() {
    // 67,983 bytes over 20 s is 11.67 MiB/hour: memwatch's README example.
    let seq: Vec<(f64, u64)> = (0..6)
        .map(|i| (i as f64 * 4000.0, 50 * MB + 67_983 * i / 5))
        .collect();
    let r = feed(classic(), &seq);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].growth, 67_983);
    assert_eq!(
        r[0].reason,
        "heap growth over 5 consecutive GCs (20s) - 11.67 mb/hr"
    );
}

#[test]
fn classic_handles_64_bit_bases_and_same_instant_gcs() {
    // Bases above 4 GiB: no 32-bit overflow, positive figures.
    let seq: Vec<(f64, u64)> = (0..6)
        .map(|i| (i as f64 * 10_000.0, 5 * 1024 * MB + i * 1024 * MB))
        .collect();
    let r = feed(classic(), &seq);
    assert_eq!(r[0].growth, 5 * 1024 * MB);
    assert_eq!(
        r[0].reason,
        "heap growth over 5 consecutive GCs (50s) - 368640.00 mb/hr"
    );
    // Six GCs at the same millisecond: no division by zero.
    let seq: Vec<(f64, u64)> = (0..6).map(|i| (0.0, (10 + i) * MB)).collect();
    let r = feed(classic(), &seq);
    assert_eq!(
        r[0].reason,
        "heap growth over 5 consecutive GCs (0.0s) - 5.00 mb at once"
    );
    assert_eq!(r[0].rate, 0.0);
    // Within one second: a real (large) rate, not a division by zero.
    let seq: Vec<(f64, u64)> = (0..6).map(|i| (i as f64 * 100.0, (10 + i) * MB)).collect();
    let r = feed(classic(), &seq);
    assert_eq!(
        r[0].reason,
        "heap growth over 5 consecutive GCs (0.5s) - 36000.00 mb/hr"
    );
}

#[test]
fn classic_still_reports_growth_suspected_from_the_rate_estimate() {
    // The classic rule decides the reports; suspicion and status come from
    // the rate estimate whatever the rule.
    let seq = leak(50.0, 200.0, 5000.0, 600_000.0, 0.5, 3);
    let mut d = LeakDetector::new(classic());
    let mut suspected = 0;
    for &(t, b) in &seq {
        if d.observe(EPOCH + t, b, GB4) == Outcome::GrowthSuspected {
            suspected += 1;
        }
    }
    assert_eq!(suspected, 1);
    assert_ne!(d.status().state, LeakState::Leaking);
    assert!(d.status().rate.unwrap() > 150.0 * MBF);
}

// ---- the rate rule, synthetic ----------------------------------------

#[test]
fn reports_a_steady_leak_with_honest_figures() {
    // 120 MB/h on a 300 MB heap, a GC every 10 s, 1 MB of scatter.
    let seq = leak(300.0, 120.0, 10_000.0, 900_000.0, 1.0, 7);
    let mut d = LeakDetector::new(LeakConfig::default());
    let mut first = None;
    for &(t, b) in &seq {
        if let Outcome::Leak(r) = d.observe(EPOCH + t, b, GB4) {
            first = Some(r);
            break;
        }
    }
    let r = first.expect("reported");
    assert_sane(&r);
    // After the grace period, from the first GC.
    assert_eq!(r.start_ms, EPOCH);
    let dur = r.end_ms - r.start_ms;
    assert!((120_000.0..=240_000.0).contains(&dur), "{r:?}");
    let (lo, hi) = r.rate_interval.unwrap();
    assert!(lo < 120.0 * MBF && hi > 120.0 * MBF, "{r:?}");
    assert!((r.rate / MBF - 120.0).abs() < 30.0, "{r:?}");
    assert_eq!(r.confidence, 0.95);
    assert_eq!(r.heap_limit, GB4);
    // Time to the limit at the estimated rate, from the fitted floor now.
    let eta = r.limit_in_ms.unwrap();
    let expected = (GB4 as f64 - d.status().level as f64) / r.rate * HOUR;
    assert!((eta - expected).abs() < 0.01 * expected, "{eta} {expected}");
    assert_eq!(r.gcs as f64, dur / 10_000.0);
    assert!(r.samples as usize >= MIN_POINTS && r.samples as usize <= 32);
    assert_eq!(r.repeat, 0);
    assert_eq!(
        r.reason,
        format_reason(r.gcs, dur, r.rate, r.limit_in_ms),
        "{r:?}"
    );
    assert!(r.reason.contains(" mb/hr, heap limit in ~"), "{}", r.reason);
}

#[test]
fn warm_up_waits_for_the_grace_period_unless_the_limit_is_close() {
    // 3 GB/h (0.85 MB/s) from 50 MB, GC every 5 s. With Node's 4 GiB limit
    // the limit is ~80 min away: reported at the grace period (2 min), not
    // before. The price of the grace period here: a report 75 s later than
    // with no grace at all (which still needs 10 GCs: 45 s at one per 5 s).
    let seq = leak(50.0, 3000.0, 5000.0, 300_000.0, 0.5, 1);
    let r = feed(LeakConfig::default(), &seq);
    let dur = r[0].end_ms - r[0].start_ms;
    assert!((120_000.0..=130_000.0).contains(&dur), "{:?}", r[0]);
    assert!(r[0].limit_in_ms.unwrap() > 900_000.0);
    let eager = feed(
        LeakConfig {
            grace_ms: 0.0,
            ..LeakConfig::default()
        },
        &seq,
    );
    let eager_dur = eager[0].end_ms - eager[0].start_ms;
    assert!(eager_dur <= 50_000.0, "{:?}", eager[0]);
    // The same growth with a 256 MiB limit: the limit is minutes away and
    // the report comes once minDurationMs has passed.
    let close = feed_limit(LeakConfig::default(), 256 * MB, &seq);
    let close_dur = close[0].end_ms - close[0].start_ms;
    assert!((15_000.0..=25_000.0).contains(&close_dur), "{:?}", close[0]);
    // limitHorizonMs = 0 turns the exception off.
    let off = feed_limit(
        LeakConfig {
            limit_horizon_ms: 0.0,
            ..LeakConfig::default()
        },
        256 * MB,
        &seq,
    );
    assert!(off[0].end_ms - off[0].start_ms >= 120_000.0);
    // An unknown limit (0) too, and the report says nothing about it.
    let unknown = feed_limit(LeakConfig::default(), 0, &seq);
    assert!(unknown[0].end_ms - unknown[0].start_ms >= 120_000.0);
    assert_eq!(unknown[0].limit_in_ms, None);
    assert!(!unknown[0].reason.contains("limit"));
}

#[test]
fn a_rise_that_stops_within_the_grace_period_is_not_a_leak() {
    // A cache filling 100 MB over 60 s from 10 MB, then flat for 20 min,
    // GC every 5 s: suspected while it fills, never reported, back to flat.
    let seq = series(1_200_000.0, 5000.0, MBF, 5, |t| {
        (10.0 + 100.0 * (t / 60_000.0).min(1.0)) * MBF
    });
    let mut d = LeakDetector::new(LeakConfig::default());
    let mut outcomes = vec![];
    for &(t, b) in &seq {
        let o = d.observe(EPOCH + t, b, GB4);
        if o != Outcome::Nothing {
            outcomes.push((t, o));
        }
    }
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0].1, Outcome::GrowthSuspected);
    assert!(outcomes[0].0 <= 30_000.0);
    assert_eq!(d.status().state, LeakState::Flat);
    // Filling for longer than the grace period (5 min) is reported, the
    // price of the rule, and repeated while it goes on, never after.
    let seq = series(1_200_000.0, 5000.0, MBF, 5, |t| {
        (10.0 + 100.0 * (t / 300_000.0).min(1.0)) * MBF
    });
    let r = feed(LeakConfig::default(), &seq);
    assert!(r[0].end_ms - EPOCH <= 150_000.0, "{r:?}");
    assert!(r.iter().all(|x| x.end_ms - EPOCH <= 300_000.0), "{r:?}");
}

#[test]
fn a_short_load_at_start_up_is_not_a_leak_even_near_the_limit() {
    // 200 MB loaded in 10 s (~20 MB/s: the heap limit minutes away at that
    // pace) and then flat: shorter than minDurationMs, never reported.
    let seq = series(600_000.0, 1500.0, MBF, 9, |t| {
        (8.0 + 192.0 * (t / 10_000.0).min(1.0)) * MBF
    });
    assert!(feed(LeakConfig::default(), &seq).is_empty());
    // Loading for 40 s at that pace is reported (the limit would be ~3 min
    // away if it went on): the price of the near-limit exception.
    let seq = series(600_000.0, 1500.0, MBF, 9, |t| {
        (8.0 + 800.0 * (t / 40_000.0).min(1.0)) * MBF
    });
    let r = feed(LeakConfig::default(), &seq);
    assert!(!r.is_empty() && r[0].end_ms - EPOCH <= 40_000.0, "{r:?}");
}

#[test]
fn a_continuing_leak_is_reported_again_at_doubling_intervals_from_its_start() {
    // 60 MB/h on 200 MB for 3 hours, GC every 20 s.
    let seq = leak(200.0, 60.0, 20_000.0, 3.0 * HOUR, 1.0, 4);
    let r = feed(LeakConfig::default(), &seq);
    assert_eq!(r.len(), 7);
    for (i, x) in r.iter().enumerate() {
        assert_sane(x);
        assert_eq!(x.repeat, i as u32);
        // Growth is always measured from the floor before the leak began:
        // no re-arming at a report.
        assert_eq!(x.start_ms, r[0].start_ms);
        if i > 0 {
            assert!(x.growth > r[i - 1].growth, "{x:?}");
            assert!(x.gcs > r[i - 1].gcs);
        }
    }
    // 2, 4, 8, 16, 32, 60 minutes apart (one GC of slack).
    let gaps: Vec<f64> = r
        .windows(2)
        .map(|w| (w[1].end_ms - w[0].end_ms) / 60_000.0)
        .collect();
    assert_eq!(gaps.len(), 6);
    for (gap, want) in gaps.iter().zip([2.0, 4.0, 8.0, 16.0, 32.0, 60.0]) {
        assert!(*gap >= want && *gap <= want + 0.34, "{gaps:?}");
    }
    // The last report's figures are current: 60 MB/h, over 2 h 5 min.
    let last = r.last().unwrap();
    assert!((last.rate / MBF - 60.0).abs() < 6.0, "{last:?}");
    let hours = (last.end_ms - last.start_ms) / HOUR;
    assert!(
        (last.growth as f64 / MBF - 60.0 * hours).abs() < 5.0,
        "{last:?}"
    );
}

#[test]
fn a_leak_that_stops_and_starts_again_is_a_new_leak() {
    // Leak 10 min, flat 20 min, leak again 10 min (300 MB/h), GC every 10 s.
    let seq = series(2_400_000.0, 10_000.0, 0.5 * MBF, 8, |t| {
        let m = t / 60_000.0;
        let grown = m.min(10.0) + (m - 30.0).max(0.0);
        (100.0 + 5.0 * grown) * MBF
    });
    let mut d = LeakDetector::new(LeakConfig::default());
    let mut events = vec![];
    for &(t, b) in &seq {
        match d.observe(EPOCH + t, b, GB4) {
            Outcome::Nothing => {}
            o => events.push((t / 60_000.0, o)),
        }
    }
    let leaks: Vec<(f64, &LeakReport)> = events
        .iter()
        .filter_map(|(t, o)| match o {
            Outcome::Leak(r) => Some((*t, r)),
            _ => None,
        })
        .collect();
    let firsts: Vec<&(f64, &LeakReport)> = leaks.iter().filter(|(_, r)| r.repeat == 0).collect();
    assert_eq!(firsts.len(), 2, "{events:?}");
    // The first leak: reported once the grace period is over, repeated.
    assert!(firsts[0].0 <= 4.0, "{:?}", firsts[0]);
    // The second starts from the floor before its own rise (minute 30).
    let (t2, r2) = firsts[1];
    assert!((30.0..=34.0).contains(t2), "{t2}");
    let start_min = (r2.start_ms - EPOCH) / 60_000.0;
    assert!((28.0..=30.5).contains(&start_min), "{r2:?}");
    // Between the two: suspected again before the second report.
    let between: Vec<&Outcome> = events
        .iter()
        .filter(|(t, _)| *t > 20.0 && *t < *t2)
        .map(|(_, o)| o)
        .collect();
    assert_eq!(between, [&Outcome::GrowthSuspected], "{events:?}");
}

#[test]
fn cycling_memory_near_the_limit_is_not_a_leak() {
    // 50 MB built at 5 MB/s and dropped every 10 s, a GC every 1.3 s for an
    // hour: each ramp would reach the limit within the horizon, but none
    // lasts minDurationMs, and every fall is as big as a ramp.
    let seq: Vec<(f64, u64)> = (0..2800u64)
        .map(|i| {
            let t = i as f64 * 1300.0;
            (t, 6 * MB + ((t % 10_000.0) * 5.0 * MBF / 1000.0) as u64)
        })
        .collect();
    assert!(feed(LeakConfig::default(), &seq).is_empty());
    // Ramps of 30 s (a slower cycle) fail on the falls the heap has shown:
    // only the very first ramp, before any fall, could look like a leak.
    let seq: Vec<(f64, u64)> = (0..3000u64)
        .map(|i| {
            let t = i as f64 * 2000.0;
            (t, 6 * MB + ((t % 30_000.0) * 5.0 * MBF / 1000.0) as u64)
        })
        .collect();
    for r in feed(LeakConfig::default(), &seq) {
        assert!(r.end_ms - EPOCH < 30_000.0, "{r:?}");
    }
}

#[test]
fn garbage_caught_by_the_newest_gcs_is_not_a_leak() {
    // A flat 200 MB heap; the newest three GCs landed while a batch job held
    // 20-40 MB. The floor rose along the way by nothing: no report, at any
    // point of the series.
    let mut seq = series(600_000.0, 20_000.0, 3.0 * MBF, 2, |_| 200.0 * MBF);
    let n = seq.len();
    for (k, extra) in [(n - 3, 30.0), (n - 2, 20.0), (n - 1, 40.0)] {
        seq[k].1 += (extra * MBF) as u64;
    }
    assert!(feed(LeakConfig::default(), &seq).is_empty());
}

#[test]
fn each_threshold_gates_the_report() {
    // A 20 MB/h leak on 200 MB (10%/h), GC every 20 s, 0.2 MB scatter, 1 h.
    let seq = leak(200.0, 20.0, 20_000.0, HOUR, 0.2, 6);
    let d = LeakConfig::default;
    assert!(!feed(d(), &seq).is_empty(), "reported by default");
    // Each threshold above what this leak offers silences it.
    let silenced = [
        LeakConfig {
            min_rate_bytes_per_hour: 40.0 * MBF,
            ..d()
        },
        LeakConfig {
            min_rate_percent: 20.0,
            ..d()
        },
        LeakConfig {
            min_growth_bytes: 40 * MB,
            ..d()
        },
        LeakConfig {
            min_signal_to_noise: 1000.0,
            ..d()
        },
        LeakConfig {
            grace_ms: 2.0 * HOUR,
            window_ms: 3.0 * HOUR,
            ..d()
        },
    ];
    for cfg in silenced {
        assert!(feed(cfg.clone(), &seq).is_empty(), "{cfg:?}");
    }
    // A higher confidence needs more evidence: a later first report.
    let first = |cfg: LeakConfig| feed(cfg, &seq)[0].end_ms;
    assert!(
        first(LeakConfig {
            confidence: 0.999,
            ..d()
        }) > first(d())
    );
}

#[test]
fn smallest_rate_scales_with_the_heap() {
    // minRatePercent (1%/h) of a 2 GiB floor is ~20 MB/h: a 15 MB/h leak
    // there is not reported in 6 h; on 200 MB (2 MB/h floor) it is.
    let big = leak(2048.0, 15.0, 60_000.0, 6.0 * HOUR, 2.0, 3);
    assert!(feed(LeakConfig::default(), &big).is_empty());
    let small = leak(200.0, 15.0, 60_000.0, 6.0 * HOUR, 1.0, 3);
    assert!(!feed(LeakConfig::default(), &small).is_empty());
}

// ---- status and outcomes -----------------------------------------------

#[test]
fn status_tracks_the_current_estimate() {
    let mut d = LeakDetector::new(LeakConfig::default());
    assert_eq!(d.status(), LeakStatus::default());
    let _ = d.observe(EPOCH, 100 * MB, GB4);
    let s = d.status();
    assert_eq!(
        (s.state, s.rate, s.gcs, s.samples),
        (LeakState::Flat, None, 1, 1)
    );
    assert_eq!((s.floor, s.level, s.heap_limit), (100 * MB, 0, GB4));
    // Flat for 30 min with 1 MB of scatter: rate near 0, interval around 0.
    let seq = series(1_800_000.0, 10_000.0, MBF, 12, |_| 100.0 * MBF);
    for &(t, b) in &seq[1..] {
        let _ = d.observe(EPOCH + t, b, GB4);
    }
    let s = d.status();
    assert_eq!(s.state, LeakState::Flat);
    let (lo, hi) = s.rate_interval.unwrap();
    assert!(lo <= 0.0 && hi >= 0.0, "{s:?}");
    assert!(s.rate.unwrap().abs() < 2.0 * MBF, "{s:?}");
    // The fitted level sits at the typical base; the floor at the lower of
    // the newest two.
    assert!((s.level as f64 / MBF - 100.5).abs() < 0.5, "{s:?}");
    let newest: Vec<u64> = seq[seq.len() - 2..].iter().map(|g| g.1).collect();
    assert_eq!(s.floor, newest[0].min(newest[1]));
    assert_eq!(s.since_ms, None);
    assert_eq!(s.gcs, seq.len() as u64);
    assert_eq!(s.limit_in_ms.is_some(), s.rate.unwrap() > 0.0);
    // A new lowest GC does not take the estimate away.
    let _ = d.observe(EPOCH + 1_805_000.0, 99 * MB, GB4);
    assert!(d.status().rate.is_some() && d.status().rate_interval.is_some());
    // Then a 600 MB/h leak: suspected (since its start), then leaking.
    let t0 = 1_810_000.0;
    let mut saw = vec![];
    for i in 0..60u64 {
        let t = t0 + i as f64 * 10_000.0;
        let b = (100.5 * MBF + 600.0 * MBF * (t - t0) / HOUR) as u64;
        let o = d.observe(EPOCH + t, b, GB4);
        let s = d.status();
        if saw.last() != Some(&s.state) {
            saw.push(s.state);
            if s.state != LeakState::Flat {
                // A floor GC shortly before the onset, or one just after.
                let since = s.since_ms.unwrap() - EPOCH;
                assert!(since >= t0 - 180_000.0 && since <= t0 + 60_000.0, "{s:?}");
            }
        }
        if s.state == LeakState::Leaking {
            assert!(matches!(o, Outcome::Leak(_)) || s.reports >= 1);
        }
    }
    assert_eq!(
        saw,
        [LeakState::Flat, LeakState::Suspected, LeakState::Leaking]
    );
    let s = d.status();
    assert_eq!(s.reports, 3, "2, 4 and 8 min after the leak began");
    let (lo, hi) = s.rate_interval.unwrap();
    assert!(lo <= 600.0 * MBF && hi >= 600.0 * MBF, "{s:?}");
    let eta = s.limit_in_ms.unwrap();
    assert!((eta - (GB4 as f64 - s.level as f64) / s.rate.unwrap() * HOUR).abs() < 1.0);
}

#[test]
fn growth_suspected_comes_once_per_episode_before_the_report() {
    // 300 MB/h on 100 MB, GC every 5 s: GrowthSuspected once, then Leak.
    let seq = leak(100.0, 300.0, 5000.0, 600_000.0, 0.5, 2);
    let mut d = LeakDetector::new(LeakConfig::default());
    let mut order = vec![];
    for &(t, b) in &seq {
        match d.observe(EPOCH + t, b, GB4) {
            Outcome::Nothing => {}
            Outcome::GrowthSuspected => order.push("suspected"),
            Outcome::Leak(r) if r.repeat == 0 => order.push("leak"),
            Outcome::Leak(_) => order.push("repeat"),
        }
    }
    assert_eq!(order[..2], ["suspected", "leak"], "{order:?}");
    assert!(order[2..].iter().all(|o| *o == "repeat"), "{order:?}");
}

// ---- memory, window, reset -------------------------------------------

#[test]
fn dense_gcs_keep_memory_bounded_and_the_floor() {
    // A GC every 20 ms for 10 minutes on a flat heap: bounded, silent.
    let mut d = LeakDetector::new(LeakConfig::default());
    let mut rng = Rng(5);
    let (mut lowest, mut sum) = (u64::MAX, 0.0);
    for i in 0..30_000u64 {
        let (t, b) = (EPOCH + i as f64 * 20.0, 30 * MB + (rng.unit() * MBF) as u64);
        lowest = lowest.min(b);
        sum += b as f64;
        assert!(d.observe(t, b, GB4).report().is_none());
        assert!(d.samples.len() <= MAX_SAMPLES);
        // The newest GC is kept as is; merging keeps the floor, the GC
        // count, and the sum of bases (means are GC-weighted).
        let last = d.samples.last().unwrap();
        assert_eq!((last.t, last.base, last.n), (t, b, 1));
        assert_eq!(d.samples.iter().map(|x| x.base).min(), Some(lowest));
        assert_eq!(d.samples.iter().map(|x| u64::from(x.n)).sum::<u64>(), i + 1);
        if i % 1000 == 999 {
            let kept: f64 = d.samples.iter().map(|x| x.mean * f64::from(x.n)).sum();
            assert!((kept - sum).abs() < 1e-6 * sum, "{kept} {sum}");
            // The floor at every retained time is the true floor from then on.
            let mut m = u64::MAX;
            for x in d.samples.iter().rev() {
                m = m.min(x.base);
                assert!(x.base >= m);
            }
        }
    }
    assert_eq!(d.status().state, LeakState::Flat);
    // Then a 6 MiB/s leak, still a GC every 20 ms: it would reach the
    // limit in ~11 min, so it is reported once minDurationMs has passed.
    let t0 = 30_000.0 * 20.0;
    let mut hit = None;
    for i in 0..10_000u64 {
        let t = t0 + i as f64 * 20.0;
        if let Some(r) = d
            .observe(EPOCH + t, 31 * MB + 6 * MB * i / 50, GB4)
            .report()
        {
            hit = Some((t - t0, r));
            break;
        }
    }
    let (after, r) = hit.expect("leak after a long flat period");
    assert!(after <= 30_000.0, "{after} {r:?}");
    assert!(r.gcs >= 500, "{r:?}");
}

#[test]
fn several_hours_of_growth_fit_in_bounded_memory() {
    // 100 MB/h on 1 GiB, a GC every 30 s for 5 hours: 600 GCs in at most
    // 128 samples, the oldest still retained (the window is 6 h).
    let seq = leak(1024.0, 100.0, 30_000.0, 5.0 * HOUR, 4.0, 1);
    let mut d = LeakDetector::new(LeakConfig::default());
    for &(t, b) in &seq {
        let _ = d.observe(EPOCH + t, b, GB4);
    }
    assert_eq!(d.samples.len(), MAX_SAMPLES);
    assert_eq!(d.samples[0].t, EPOCH);
    let s = d.status();
    assert_eq!(s.state, LeakState::Leaking);
    let (lo, hi) = s.rate_interval.unwrap();
    assert!(lo < 100.0 * MBF && hi > 100.0 * MBF, "{s:?}");
    assert!(
        hi - lo < 20.0 * MBF,
        "hours of data give a tight interval: {s:?}"
    );
}

#[test]
fn window_forgets_old_gcs() {
    let cfg = LeakConfig {
        window_ms: 60_000.0,
        grace_ms: 30_000.0,
        ..LeakConfig::default()
    };
    let mut d = LeakDetector::new(cfg);
    for i in 0..100u64 {
        let _ = d.observe(i as f64 * 10_000.0, 10 * MB, GB4);
    }
    assert!(d.samples.len() <= 7, "{}", d.samples.len());
    assert!(d.samples.iter().all(|s| s.t >= 990_000.0 - 60_000.0));
}

#[test]
fn reset_forgets_everything() {
    let mut d = LeakDetector::new(LeakConfig::default());
    for &(t, b) in &leak(10.0, 3600.0, 2000.0, 100_000.0, 0.0, 1) {
        let _ = d.observe(EPOCH + t, b, 256 * MB);
    }
    assert_eq!(d.status().state, LeakState::Leaking);
    d.reset();
    assert_eq!(d.status(), LeakStatus::default());
    assert!(d.samples.is_empty());
    let mut c = LeakDetector::new(classic());
    for i in 0..5u64 {
        assert!(c.observe(i as f64, i * MB, GB4).report().is_none());
    }
    c.reset();
    assert!(
        c.observe(5.0, 5 * MB, GB4).report().is_none(),
        "the streak was forgotten"
    );
}

// ---- robustness ------------------------------------------------------

#[test]
fn clock_steps() {
    // Back by up to 1 s: treated as the same instant (no negative spans).
    let mut d = LeakDetector::new(classic());
    let mut last = None;
    for (i, t) in [10_000.0, 9_500.0, 9_200.0, 9_900.0, 9_100.0, 9_000.0]
        .iter()
        .enumerate()
    {
        last = d.observe(*t, (i as u64 + 1) * MB, GB4).report().or(last);
    }
    let r = last.expect("5 growths");
    assert_eq!((r.start_ms, r.end_ms), (10_000.0, 10_000.0));
    // Back by more than 1 s: start afresh.
    let mut d = LeakDetector::new(LeakConfig::default());
    assert_eq!(d.observe(100_000.0, 10 * MB, GB4), Outcome::Nothing);
    assert_eq!(d.observe(104_000.0, 40 * MB, GB4), Outcome::Nothing);
    assert_eq!(d.observe(50_000.0, 50 * MB, GB4), Outcome::Nothing);
    assert_eq!(d.samples.len(), 1);
    assert_eq!(d.status().gcs, 1);
    // Non-finite times are ignored.
    assert_eq!(d.observe(f64::NAN, 0, GB4), Outcome::Nothing);
    assert_eq!(d.observe(f64::INFINITY, u64::MAX, GB4), Outcome::Nothing);
    assert_eq!(d.observe(f64::NEG_INFINITY, 1, GB4), Outcome::Nothing);
    assert_eq!(d.samples.len(), 1);
}

#[test]
fn no_panic_on_extreme_input() {
    let mut rng = Rng(99);
    let picks = [
        0u64,
        1,
        u64::MAX,
        u64::MAX - 1,
        u64::MAX / 2,
        1 << 32,
        1 << 63,
    ];
    let times = [
        0.0,
        -1e300,
        1e300,
        f64::MAX,
        f64::MIN,
        -0.0,
        5e-324,
        f64::NAN,
        1.7e12,
    ];
    for rule in [LeakRule::Rate, LeakRule::Classic] {
        for cfg in [
            LeakConfig {
                rule,
                ..LeakConfig::default()
            },
            LeakConfig {
                rule,
                min_rate_bytes_per_hour: 0.0,
                min_rate_percent: 0.0,
                min_signal_to_noise: 0.0,
                min_growth_bytes: 0,
                grace_ms: 0.0,
                min_duration_ms: 0.0,
                confidence: 0.5,
                classic_streak: 1,
                ..LeakConfig::default()
            },
        ] {
            let mut d = LeakDetector::new(cfg);
            let mut t = 0.0;
            for i in 0..5_000u64 {
                let base = match rng.next() % 3 {
                    0 => picks[(rng.next() % picks.len() as u64) as usize],
                    1 => rng.next() << (rng.next() % 31),
                    _ => i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                };
                t = match rng.next() % 4 {
                    0 => times[(rng.next() % times.len() as u64) as usize],
                    1 => t,
                    _ => t + (rng.next() % 5000) as f64,
                };
                let limit = picks[(rng.next() % picks.len() as u64) as usize];
                if let Outcome::Leak(r) = d.observe(t, base, limit) {
                    assert!(r.end_ms >= r.start_ms, "{r:?}");
                    assert!(!r.reason.contains("NaN") && r.reason.len() <= 120, "{r:?}");
                }
                let s = d.status();
                assert!(d.samples.len() <= MAX_SAMPLES);
                assert!(s.rate.is_none_or(|r| !r.is_nan()), "{s:?}");
            }
        }
    }
    // A monotone leak at the top of the u64 range.
    let seq: Vec<(f64, u64)> = (0..40u64)
        .map(|i| (i as f64 * 5_000.0, u64::MAX / 4 + i * (u64::MAX / 64)))
        .collect();
    let r = feed(LeakConfig::default(), &seq);
    assert!(!r.is_empty());
    assert_sane(&r[0]);
    // Zero bases throughout: nothing grows.
    let seq: Vec<(f64, u64)> = (0..200u64).map(|i| (i as f64 * 1000.0, 0)).collect();
    assert!(feed(LeakConfig::default(), &seq).is_empty());
    assert!(feed(classic(), &seq).is_empty());
}

// ---- configuration ----------------------------------------------------

#[test]
fn defaults_are_valid_and_documented_values() {
    let c = LeakConfig::default();
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(c.rule, LeakRule::Rate);
    assert_eq!(c.min_rate_bytes_per_hour, 1_048_576.0);
    assert_eq!(c.min_rate_percent, 1.0);
    assert_eq!(c.confidence, 0.95);
    assert_eq!(c.min_signal_to_noise, 2.5);
    assert_eq!(c.min_growth_bytes, 1_048_576);
    assert_eq!(c.grace_ms, 120_000.0);
    assert_eq!(c.limit_horizon_ms, 900_000.0);
    assert_eq!(c.min_duration_ms, 15_000.0);
    assert_eq!(c.window_ms, 21_600_000.0);
    assert_eq!(c.repeat_ms, 120_000.0);
    assert_eq!(c.repeat_max_ms, 3_600_000.0);
    assert_eq!(c.classic_streak, 5);
    assert_eq!(LeakDetector::new(c.clone()).config(), &c);
}

#[test]
fn validate_names_the_bad_key_in_a_bounded_message() {
    let d = LeakConfig::default;
    let cases: Vec<(LeakConfig, &str)> = vec![
        (
            LeakConfig {
                min_rate_bytes_per_hour: -1.0,
                ..d()
            },
            "minRateBytesPerHour",
        ),
        (
            LeakConfig {
                min_rate_bytes_per_hour: f64::NAN,
                ..d()
            },
            "minRateBytesPerHour",
        ),
        (
            LeakConfig {
                min_rate_bytes_per_hour: 1e300,
                ..d()
            },
            "minRateBytesPerHour",
        ),
        (
            LeakConfig {
                min_rate_percent: 10_000.5,
                ..d()
            },
            "minRatePercent",
        ),
        (
            LeakConfig {
                min_rate_percent: f64::INFINITY,
                ..d()
            },
            "minRatePercent",
        ),
        (
            LeakConfig {
                confidence: 0.49,
                ..d()
            },
            "confidence",
        ),
        (
            LeakConfig {
                confidence: 1.0,
                ..d()
            },
            "confidence",
        ),
        (
            LeakConfig {
                min_signal_to_noise: -0.1,
                ..d()
            },
            "minSignalToNoise",
        ),
        (
            LeakConfig {
                min_signal_to_noise: 1001.0,
                ..d()
            },
            "minSignalToNoise",
        ),
        (
            LeakConfig {
                min_growth_bytes: u64::MAX,
                ..d()
            },
            "minGrowthBytes",
        ),
        (
            LeakConfig {
                grace_ms: -1.0,
                ..d()
            },
            "graceMs",
        ),
        (
            LeakConfig {
                grace_ms: 86_400_001.0,
                ..d()
            },
            "graceMs",
        ),
        (
            LeakConfig {
                limit_horizon_ms: f64::NAN,
                ..d()
            },
            "limitHorizonMs",
        ),
        (
            LeakConfig {
                min_duration_ms: -5.0,
                ..d()
            },
            "minDurationMs",
        ),
        (
            LeakConfig {
                window_ms: 59_999.0,
                ..d()
            },
            "windowMs",
        ),
        (
            LeakConfig {
                window_ms: 604_800_001.0,
                ..d()
            },
            "windowMs",
        ),
        (
            LeakConfig {
                grace_ms: 3_600_000.0,
                window_ms: 1_800_000.0,
                ..d()
            },
            "windowMs",
        ),
        (
            LeakConfig {
                min_duration_ms: 90_000.0,
                window_ms: 60_000.0,
                grace_ms: 0.0,
                ..d()
            },
            "windowMs",
        ),
        (
            LeakConfig {
                repeat_ms: 999.0,
                ..d()
            },
            "repeatMs",
        ),
        (
            LeakConfig {
                repeat_max_ms: 60_000.0,
                ..d()
            },
            "repeatMaxMs",
        ),
        (
            LeakConfig {
                repeat_max_ms: 1e300,
                ..d()
            },
            "repeatMaxMs",
        ),
        (
            LeakConfig {
                classic_streak: 0,
                ..d()
            },
            "classicStreak",
        ),
        (
            LeakConfig {
                classic_streak: 1001,
                ..d()
            },
            "classicStreak",
        ),
    ];
    for (cfg, key) in cases {
        let err = cfg.validate().expect_err(key);
        assert_eq!(err.0, key, "{}", err.1);
        assert!(err.1.starts_with(key), "{}", err.1);
        assert!(err.1.len() <= 120, "{} chars: {}", err.1.len(), err.1);
        assert!(!err.1.contains("00000000000"), "{}", err.1);
    }
    let edges = LeakConfig {
        min_rate_bytes_per_hour: 9_007_199_254_740_991.0,
        min_rate_percent: 10_000.0,
        confidence: 0.9999,
        min_signal_to_noise: 1000.0,
        min_growth_bytes: 9_007_199_254_740_991,
        grace_ms: 86_400_000.0,
        limit_horizon_ms: 0.0,
        min_duration_ms: 0.0,
        window_ms: 604_800_000.0,
        repeat_ms: 1000.0,
        repeat_max_ms: 604_800_000.0,
        classic_streak: 1,
        ..d()
    };
    assert_eq!(edges.validate(), Ok(()));
}

#[test]
fn invalid_config_is_clamped_not_a_panic() {
    let cfg = LeakConfig {
        min_rate_bytes_per_hour: f64::NAN,
        min_rate_percent: f64::NEG_INFINITY,
        confidence: 2.0,
        min_signal_to_noise: f64::NAN,
        min_growth_bytes: u64::MAX,
        grace_ms: f64::INFINITY,
        limit_horizon_ms: -1.0,
        min_duration_ms: f64::NAN,
        window_ms: 10.0,
        repeat_ms: 0.0,
        repeat_max_ms: f64::NAN,
        classic_streak: 0,
        ..LeakConfig::default()
    };
    let c = cfg.clone().clamped();
    assert_eq!(c.min_rate_bytes_per_hour, 1_048_576.0);
    assert_eq!(c.min_rate_percent, 0.0);
    assert_eq!(c.confidence, 0.9999);
    assert_eq!(c.min_signal_to_noise, 2.5);
    assert_eq!(c.min_growth_bytes, 9_007_199_254_740_991);
    assert_eq!(c.grace_ms, 86_400_000.0);
    assert_eq!(c.limit_horizon_ms, 0.0);
    assert_eq!(c.min_duration_ms, 15_000.0);
    assert_eq!(c.window_ms, 86_400_000.0, "at least the grace period");
    assert_eq!((c.repeat_ms, c.repeat_max_ms), (1000.0, 3_600_000.0));
    assert_eq!(c.classic_streak, 1);
    assert_eq!(c.validate(), Ok(()));
    let mut d = LeakDetector::new(cfg);
    for i in 0..100u64 {
        let _ = d.observe(i as f64 * 1000.0, i * MB, GB4);
    }
}

// ---- formatting -------------------------------------------------------

#[test]
fn durations_read_like_memwatch() {
    assert_eq!(Dur(400.0).to_string(), "0.4s");
    assert_eq!(Dur(9_940.0).to_string(), "9.9s");
    assert_eq!(Dur(20_000.0).to_string(), "20s");
    assert_eq!(Dur(59_600.0).to_string(), "1m 0s");
    assert_eq!(Dur(245_000.0).to_string(), "4m 5s");
    assert_eq!(Dur(552_000.0).to_string(), "9m 12s");
    assert_eq!(Dur(7_380_000.0).to_string(), "2h 3m");
    assert_eq!(Dur(-5.0).to_string(), "0.0s");
    assert_eq!(Dur(f64::NAN).to_string(), "0.0s");
    assert_eq!(Rate(MB, 3_600_000.0).to_string(), "1.00 mb/hr");
    assert_eq!(Rate(MB, 0.0).to_string(), "1.00 mb at once");
    assert!(Rate(u64::MAX, 1.0).to_string().ends_with(" mb/hr"));
    assert_eq!(PerHour(118.2 * MBF).to_string(), "118.20 mb/hr");
    assert_eq!(PerHour(f64::NAN).to_string(), "0.00 mb/hr");
    assert_eq!(PerHour(1e300).to_string(), "9.537e293 mb/hr");
}

#[test]
fn times_to_the_limit_read_roughly() {
    assert_eq!(Eta(400.0).to_string(), "under 1s");
    assert_eq!(Eta(42_400.0).to_string(), "~42s");
    assert_eq!(Eta(12.4 * 60_000.0).to_string(), "~12m");
    assert_eq!(Eta(17.2 * HOUR).to_string(), "~17h");
    assert_eq!(Eta(50.0 * HOUR).to_string(), "~2d");
    assert_eq!(Eta(-1.0).to_string(), "under 1s");
    assert!(Eta(f64::INFINITY).to_string().len() <= 24);
}

#[test]
fn message_numbers_print_like_js() {
    for (x, js) in [
        (0.0, "0"),
        (-0.0, "0"),
        (1.5, "1.5"),
        (86_400_000.0, "86400000"),
        (9_007_199_254_740_991.0, "9007199254740991"),
        (1e300, "1e+300"),
        (1.5e-7, "1.5e-7"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
        (f64::NAN, "NaN"),
    ] {
        assert_eq!(crate::text::js_number(x), js);
    }
}

#[test]
fn reason_reads_like_the_issue_example() {
    assert_eq!(
        format_reason(14, 552_000.0, 118.2 * MBF, Some(17.0 * HOUR)),
        "heap growth over 14 GCs (9m 12s) - 118.20 mb/hr, heap limit in ~17h"
    );
    assert_eq!(
        format_reason(3, 21_000.0, 25_200.0 * MBF, Some(9.5 * 60_000.0)),
        "heap growth over 3 GCs (21s) - 25200.00 mb/hr, heap limit in ~10m"
    );
    assert_eq!(
        format_reason(7, 130_000.0, 34.0 * MBF, None),
        "heap growth over 7 GCs (2m 10s) - 34.00 mb/hr"
    );
    // Bounded whatever the input.
    for r in [
        format_reason(u32::MAX, f64::MAX, f64::MAX, Some(f64::MAX)),
        format_reason(0, f64::NAN, f64::NAN, Some(f64::NAN)),
        format_reason(1, -1.0, -1e300, Some(-5.0)),
        format_classic_reason(u32::MAX, f64::MAX, u64::MAX),
    ] {
        assert!(r.len() <= 120, "{} chars: {r}", r.len());
        assert!(!r.contains("NaN") && !r.contains("inf"), "{r}");
    }
}

/// Cost of one observation with a full window (128 samples, up to 24
/// spans of up to 32 points). Run with --release --ignored --nocapture.
#[test]
#[ignore]
fn cost_per_observation() {
    let seq = leak(300.0, 0.0, 10_000.0, 6.0 * HOUR, 3.0, 1);
    let mut d = LeakDetector::new(LeakConfig::default());
    let t = std::time::Instant::now();
    for &(t, b) in &seq {
        let _ = d.observe(EPOCH + t, b, GB4);
    }
    let per = t.elapsed().as_secs_f64() / seq.len() as f64;
    println!("{} observations, {:.1} us each", seq.len(), per * 1e6);
}

/// The price of `minDurationMs`: fast leaks on V8's own sparse GCs reported
/// within 30 s, against the longest start-up load (200 MB at a pace that
/// reaches the limit within the horizon) that stays quiet. Prints the table
/// in docs/leak-detector.md (--release --ignored --nocapture).
#[test]
#[ignore]
fn min_duration_tradeoff() {
    for md in [12_000.0, 15_000.0, 20_000.0] {
        let cfg = LeakConfig {
            min_duration_ms: md,
            ..LeakConfig::default()
        };
        let fast = FIXTURES
            .iter()
            .filter(|(n, _)| kind(n) == "fast-leak")
            .filter(|(_, t)| {
                replay(cfg.clone(), &load(t))
                    .first_report_s()
                    .is_some_and(|s| s <= 30.0)
            })
            .count();
        let false_ = FIXTURES
            .iter()
            .filter(|(n, _)| kind(n) == "no-leak")
            .filter(|(_, t)| !replay(cfg.clone(), &load(t)).reports.is_empty())
            .count();
        let mut loads = vec![];
        for secs in [8.0, 10.0, 12.0, 15.0, 18.0] {
            let mut reported = 0;
            for seed in 1..=10 {
                let seq = series(300_000.0, 1500.0, MBF, seed, |t| {
                    (8.0 + 192.0 * (t / (secs * 1000.0)).min(1.0)) * MBF
                });
                if !feed(cfg.clone(), &seq).is_empty() {
                    reported += 1;
                }
            }
            loads.push((secs, reported));
        }
        println!("minDuration {md}: fast fixtures within 30 s {fast}/40, false {false_}/80, 200 MB loads reported (secs, of 10): {loads:?}");
    }
}

#[test]
#[ignore]
fn explore_recorded() {
    for (name, text) in FIXTURES.iter().filter(|(n, _)| n.starts_with("rec-")) {
        let r = replay(LeakConfig::default(), &load(text));
        println!(
            "{name:24} suspected {:?} reports {:?} state {:?} rate {:?}",
            r.suspected,
            r.reports
                .iter()
                .map(|(t, x)| (t.round(), x.reason.clone()))
                .collect::<Vec<_>>(),
            r.status.state,
            r.status.rate.map(|x| (x / MBF).round())
        );
    }
}

#[test]
#[ignore]
fn debug_recorded() {
    let name = std::env::var("FIX").unwrap_or_default();
    let at: f64 = std::env::var("AT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1e12);
    let v = fixture(&name);
    let mut d = LeakDetector::new(LeakConfig::default());
    for &(t, b, l) in v.iter().filter(|g| g.0 <= at) {
        let o = d.observe(EPOCH + t, b, l);
        println!(
            "{:8.1} {:9.3} {:?} {:?}",
            t / 1000.0,
            b as f64 / MBF,
            o,
            d.status().state
        );
    }
    for l in d.explain() {
        println!("   {l}");
    }
}

/// Summary of the earlier recordings under the default rule, for
/// docs/leak-detector.md (--release --ignored --nocapture).
#[test]
#[ignore]
fn summarize_recordings() {
    for k in ["fast-leak", "slow-leak", "no-leak"] {
        let (mut n, mut rep, mut rep30, mut susp, mut susp60) = (0, 0, 0, 0, 0);
        let mut firsts = vec![];
        for (_, text) in FIXTURES.iter().filter(|(name, _)| kind(name) == k) {
            let r = replay(LeakConfig::default(), &load(text));
            n += 1;
            if let Some(t) = r.first_report_s() {
                rep += 1;
                rep30 += usize::from(t <= 30.0);
                firsts.push(t);
            }
            if let Some(&t) = r.suspected.first() {
                susp += 1;
                susp60 += usize::from(t <= 60.0);
            }
        }
        firsts.sort_by(f64::total_cmp);
        let med = firsts.get(firsts.len() / 2).copied().unwrap_or(f64::NAN);
        println!("{k}: {n} runs, {rep} reported ({rep30} within 30 s, median {med:.1} s), {susp} suspected ({susp60} within 60 s)");
    }
}

#[test]
fn one_spiked_gc_after_sparse_samples_is_no_rise() {
    // A flat 1 GB heap (0-20 MB of floating garbage) whose first bases came
    // out low by chance, sampled at a backed-off pace (40 s, 80 s, 160 s,
    // 300 s apart), then one GC caught with a batch job's 60 MB: the last
    // third of the span holds that GC alone. Found by the 200-seed
    // simulation (flat 1 GB, seed 14); reported as 230 MB/h before the rule
    // asked for two GCs in the last third.
    let mb = |v: f64| (v * MIB as f64) as u64;
    let seq: Vec<(f64, u64)> = [
        (1.0, 1028.52),
        (5.5, 1029.82),
        (14.0, 1030.38),
        (30.5, 1030.91),
        (41.0, 1039.47),
        (51.5, 1039.63),
        (62.0, 1029.96),
        (72.5, 1028.54),
        (93.0, 1039.26),
        (133.5, 1037.58),
        (214.0, 1042.99),
        (374.5, 1037.09),
        (675.0, 1097.87),
    ]
    .iter()
    .map(|&(t, b)| (t * 1000.0, mb(b)))
    .collect();
    assert!(feed(LeakConfig::default(), &seq).is_empty());
    // The same GCs with one more at the new level: now two GCs stand in the
    // last third and the rise counts.
    let mut more = seq.clone();
    more.push((700_000.0, mb(1098.5)));
    assert_eq!(feed(LeakConfig::default(), &more).len(), 1);
}
