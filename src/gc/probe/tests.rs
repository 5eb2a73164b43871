use super::*;

const MB: u64 = 1 << 20;
const FLAT: LeakState = LeakState::Flat;
const SUSPECTED: LeakState = LeakState::Suspected;
const LEAKING: LeakState = LeakState::Leaking;

/// `p.due` for a detector in `state` that has seen `WARMUP_GCS` full GCs
/// (past the warm-up cap) and sees the heap `rising` or not.
fn due(p: &mut Prober, now_ms: f64, used: u64, state: LeakState, rising: bool) -> bool {
    let detector = LeakStatus {
        state,
        rising,
        gcs: WARMUP_GCS,
        ..LeakStatus::default()
    };
    p.due(now_ms, used, &detector)
}

/// Calls `due` every 500 ms (the JS timer) from `from` to `to` ms with the
/// used heap `used(t)`; returns the times it answered true. Each probe's
/// full GC is reported `gc_after` ms later with base `base(t)`.
fn drive(
    p: &mut Prober,
    from: f64,
    to: f64,
    state: LeakState,
    used: impl Fn(f64) -> u64,
    base: impl Fn(f64) -> u64,
) -> Vec<f64> {
    drive_rising(p, from, to, state, false, used, base)
}

/// As [`drive`], with the detector's `rising` flag set to `rising`.
fn drive_rising(
    p: &mut Prober,
    from: f64,
    to: f64,
    state: LeakState,
    rising: bool,
    used: impl Fn(f64) -> u64,
    base: impl Fn(f64) -> u64,
) -> Vec<f64> {
    let mut detector = LeakStatus {
        state,
        rising,
        gcs: WARMUP_GCS,
        ..LeakStatus::default()
    };
    drive_detector(p, from, to, &mut detector, used, base)
}

/// As [`drive`], for a detector whose status is `detector`: each probe's
/// full GC adds one to its `gcs`.
fn drive_detector(
    p: &mut Prober,
    from: f64,
    to: f64,
    detector: &mut LeakStatus,
    used: impl Fn(f64) -> u64,
    base: impl Fn(f64) -> u64,
) -> Vec<f64> {
    let mut probes = vec![];
    let mut t = from;
    while t <= to {
        if p.due(t, used(t), detector) {
            probes.push(t);
            p.full_gc(t + 200.0, base(t + 200.0));
            detector.gcs += 1;
        }
        t += 500.0;
    }
    probes
}

#[test]
fn first_check_probes_once_to_get_a_base() {
    let mut p = Prober::default();
    assert!(due(&mut p, 0.0, 10 * MB, FLAT, false));
    assert!(
        !due(&mut p, 500.0, 10 * MB, FLAT, false),
        "not again before the minimum interval"
    );
    assert!(!due(&mut p, 1500.0, 10 * MB, FLAT, false));
}

#[test]
fn a_small_absolute_growth_is_enough_on_a_big_heap() {
    // Today's rule wanted 5% of the base (15 MB on 300 MB); a flat heap is
    // probed once its back-off has passed and it grew by 256 KiB.
    let mut p = Prober::default();
    p.full_gc(0.0, 300 * MB);
    assert!(
        !due(&mut p, 1_000.0, 400 * MB, FLAT, false),
        "too soon after a full GC"
    );
    assert!(
        !due(&mut p, 2_500.0, 300 * MB + 200 * 1024, FLAT, false),
        "grew less than 256 KiB"
    );
    let mut p = Prober::default();
    p.full_gc(0.0, 300 * MB);
    assert!(due(&mut p, 2_500.0, 300 * MB + 300 * 1024, FLAT, false));
}

#[test]
fn an_idle_heap_is_never_probed() {
    let mut p = Prober::default();
    p.full_gc(0.0, 20 * MB);
    let probes = drive(
        &mut p,
        500.0,
        6.0 * 3_600_000.0,
        FLAT,
        |_| 20 * MB + 100 * 1024,
        |_| 20 * MB,
    );
    assert!(probes.is_empty(), "{probes:?}");
}

#[test]
fn a_flat_heap_is_probed_ever_less_often() {
    // A busy flat heap (always grown past the last base): intervals double
    // from the minimum to the 5-minute cap.
    let mut p = Prober::default();
    p.full_gc(0.0, 100 * MB);
    let probes = drive(&mut p, 500.0, 3_600_000.0, FLAT, |_| 150 * MB, |_| 100 * MB);
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    // The GC comes 200 ms after each probe and the timer ticks every 500 ms.
    let want = [
        4_000.0, 8_000.0, 16_000.0, 32_000.0, 64_000.0, 128_000.0, 256_000.0, 300_000.0,
    ];
    for (g, w) in gaps.iter().zip(want) {
        assert!(*g >= w && *g <= w + 1_000.0, "{gaps:?}");
    }
    assert!(
        gaps[7..]
            .iter()
            .all(|g| (300_000.0..=301_000.0).contains(g)),
        "{gaps:?}"
    );
    // About 19 probes in the first hour, then 12 an hour.
    assert!((17..=21).contains(&probes.len()), "{}", probes.len());
}

#[test]
fn a_new_detector_gets_its_first_bases_at_most_20_s_apart() {
    // A detector that has seen fewer than WARMUP_GCS full GCs: the back-off
    // stops at twice the suspect pace (20 s), so its 10 bases come within
    // 160 s; then it doubles on to the 5-minute cap as usual.
    let mut p = Prober::default();
    let mut detector = LeakStatus::default();
    let probes = drive_detector(
        &mut p,
        500.0,
        3_600_000.0,
        &mut detector,
        |_| 150 * MB,
        |_| 100 * MB,
    );
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    let want = [
        4_000.0, 8_000.0, 16_000.0, 20_000.0, 20_000.0, 20_000.0, 20_000.0, 20_000.0, 20_000.0,
        20_000.0, 40_000.0, 80_000.0, 160_000.0, 300_000.0,
    ];
    for (g, w) in gaps.iter().zip(want) {
        assert!(*g >= w && *g <= w + 1_000.0, "{gaps:?}");
    }
    assert!(probes[9] <= 160_000.0, "{probes:?}");
    // The first hour: about 4 probes more than a warm detector's 19.
    assert!((21..=25).contains(&probes.len()), "{}", probes.len());
}

#[test]
fn the_young_generation_sawtooth_is_not_growth() {
    // A 20 MB heap whose used size swings by 30 MB every 2 s (allocation
    // filling the young generation, scavenges emptying it): the settled
    // heap (lowest of the last 8 readings) has not grown, so a heap backed
    // off to 5 minutes is not probed early, although the raw reading is
    // 150% above the base at its peaks.
    let mut p = Prober::default();
    p.full_gc(0.0, 20 * MB);
    p.interval_ms = 300_000.0;
    let sawtooth = |t: f64| 20 * MB + 512 * 1024 + (30 * MB) * ((t % 2000.0) as u64) / 2000;
    let probes = drive(&mut p, 500.0, 290_000.0, FLAT, sawtooth, |_| 20 * MB);
    assert!(probes.is_empty(), "{probes:?}");
    // A settled heap that doubled is probed at once (a fast leak starting
    // on a heap that had been flat for hours).
    let leak = |t: f64| 20 * MB + (t as u64) * 7 * MB / 1000;
    let probes = drive(&mut p, 290_000.0, 300_000.0, FLAT, leak, |_| 20 * MB);
    assert!(!probes.is_empty());
}

#[test]
fn suspected_growth_is_sampled_at_least_every_suspect_interval() {
    // Growth suspected on a heap that grows slowly: a probe every 10 s.
    let mut p = Prober::default();
    p.full_gc(0.0, 300 * MB);
    let probes = drive(
        &mut p,
        500.0,
        120_000.0,
        SUSPECTED,
        |t| 300 * MB + (t as u64) * 40,
        |_| 300 * MB,
    );
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| (10_000.0..=10_500.0).contains(g)),
        "{gaps:?}"
    );
    // A fast one (7 MB/s from 20 MB): as soon as the settled heap grew by a
    // quarter of the base, so 4 GCs by 10 s, then ever further apart as
    // the base grows, never more than 10 s.
    let mut p = Prober::default();
    p.full_gc(0.0, 20 * MB);
    let fast = |t: f64| 20 * MB + (t as u64) * 7 * MB / 1000;
    let probes = drive(&mut p, 500.0, 30_000.0, SUSPECTED, fast, fast);
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        probes.iter().filter(|&&t| t <= 10_000.0).count() >= 3,
        "{probes:?}"
    );
    assert!(gaps.iter().all(|g| *g <= 10_000.0), "{gaps:?}");
    assert!(gaps[0] < 4_000.0, "{gaps:?}");
}

#[test]
fn a_reported_leak_is_sampled_once_a_minute() {
    let mut p = Prober::default();
    p.full_gc(0.0, 300 * MB);
    let probes = drive(
        &mut p,
        500.0,
        600_000.0,
        LEAKING,
        |t| 300 * MB + (t as u64) * 40,
        |_| 300 * MB,
    );
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| (60_000.0..=60_500.0).contains(g)),
        "{gaps:?}"
    );
}

#[test]
fn back_to_flat_restarts_the_back_off_from_the_suspect_pace() {
    let mut p = Prober::default();
    p.full_gc(0.0, 100 * MB);
    let _ = drive(
        &mut p,
        500.0,
        60_000.0,
        SUSPECTED,
        |_| 150 * MB,
        |_| 100 * MB,
    );
    backs_off_from_the_suspect_pace(&mut p, 60_500.0);
}

/// On a busy flat heap from `from` ms, the first two gaps are 20 s and 40 s.
fn backs_off_from_the_suspect_pace(p: &mut Prober, from: f64) {
    let probes = drive(p, from, from + 140_000.0, FLAT, |_| 150 * MB, |_| 100 * MB);
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!((20_000.0..=21_000.0).contains(&gaps[0]), "{gaps:?}");
    assert!((40_000.0..=41_000.0).contains(&gaps[1]), "{gaps:?}");
}

#[test]
fn a_rising_flat_heap_keeps_the_suspect_pace() {
    // Backed off to 64 s on a flat heap, then the detector sees the rate's
    // lower bound at a reportable rate: the next probe comes at the suspect
    // pace (10 s) and so does every one after it while the rise holds.
    let mut p = Prober::default();
    p.full_gc(0.0, 100 * MB);
    let _ = drive(&mut p, 500.0, 100_000.0, FLAT, |_| 150 * MB, |_| 100 * MB);
    assert_eq!(p.interval_ms(), 64_000.0);
    let probes = drive_rising(
        &mut p,
        100_500.0,
        240_000.0,
        FLAT,
        true,
        |_| 150 * MB,
        |_| 100 * MB,
    );
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(probes.len() >= 12, "{probes:?}");
    assert!(
        gaps.iter().all(|g| (10_000.0..=10_500.0).contains(g)),
        "{gaps:?}"
    );
    // The rise cleared: the back-off resumes from the suspect pace.
    backs_off_from_the_suspect_pace(&mut p, 240_500.0);
}

#[test]
fn a_rise_holds_the_pace_for_10_minutes_at_most() {
    // A heap that keeps rising without ever being suspected (growth in
    // steps): 10 s probes for 10 minutes, then the back-off resumes.
    let mut p = Prober::default();
    p.full_gc(0.0, 100 * MB);
    let probes = drive_rising(
        &mut p,
        500.0,
        1_800_000.0,
        FLAT,
        true,
        |_| 150 * MB,
        |_| 100 * MB,
    );
    let held = probes.iter().filter(|&&t| t <= 600_500.0).count();
    assert!((57..=61).contains(&held), "{probes:?}");
    let after: Vec<f64> = probes.iter().copied().filter(|&t| t > 600_500.0).collect();
    let gaps: Vec<f64> = after.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.len() >= 3 && gaps[0] >= 20_000.0 && gaps.windows(2).all(|w| w[1] >= w[0]),
        "{gaps:?}"
    );
    // A rise that clears and comes back is held again.
    let mut q = Prober::default();
    q.full_gc(0.0, 100 * MB);
    let _ = due(&mut q, 1_000.0, 150 * MB, FLAT, true);
    let _ = due(&mut q, 700_000.0, 150 * MB, FLAT, false);
    let _ = due(&mut q, 700_500.0, 150 * MB, FLAT, true);
    assert!(q.holding);
}

#[test]
fn natural_full_gcs_push_the_next_probe_back() {
    let mut p = Prober::default();
    p.full_gc(0.0, 100 * MB);
    p.full_gc(1_900.0, 100 * MB);
    assert!(!due(&mut p, 2_500.0, 150 * MB, FLAT, false));
    assert!(due(&mut p, 3_900.0, 150 * MB, FLAT, false));
}

#[test]
fn disabled_never_probes() {
    let mut p = Prober::new(ProbeConfig {
        enabled: false,
        ..Default::default()
    });
    assert!(!due(&mut p, 0.0, 0, FLAT, false));
    p.full_gc(0.0, MB);
    assert!(!due(&mut p, 1e9, u64::MAX, LEAKING, false));
    assert!(!due(&mut p, f64::NAN, u64::MAX, SUSPECTED, false));
}

#[test]
fn bad_times_change_nothing() {
    let mut p = Prober::default();
    p.full_gc(0.0, MB);
    assert!(!due(&mut p, f64::NAN, 100 * MB, SUSPECTED, false));
    assert!(!due(&mut p, f64::INFINITY, 100 * MB, SUSPECTED, false));
    // A GC with no valid time is not a GC "now": the last one still counts.
    p.full_gc(f64::NAN, 100 * MB);
    assert!(
        !due(&mut p, 1_000.0, 100 * MB, SUSPECTED, false),
        "within 2 s of the last GC"
    );
    assert!(
        due(&mut p, 2_000.0, 100 * MB, SUSPECTED, false),
        "grew 100x since the last GC"
    );
}

#[test]
fn defaults_and_validation() {
    let d = ProbeConfig::default();
    assert_eq!(d.validate(), Ok(()));
    assert_eq!(
        (
            d.enabled,
            d.min_interval_ms,
            d.max_interval_ms,
            d.suspect_interval_ms,
            d.leak_interval_ms
        ),
        (true, 2_000.0, 300_000.0, 10_000.0, 60_000.0)
    );
    assert_eq!(
        (d.min_growth_bytes, d.growth_ratio, d.jump_ratio),
        (256 * 1024, 0.25, 1.0)
    );
    let cases = [
        (
            ProbeConfig {
                min_interval_ms: 99.0,
                ..d
            },
            "probeMinIntervalMs",
        ),
        (
            ProbeConfig {
                min_interval_ms: f64::NAN,
                ..d
            },
            "probeMinIntervalMs",
        ),
        (
            ProbeConfig {
                max_interval_ms: 1_000.0,
                ..d
            },
            "probeMaxIntervalMs",
        ),
        (
            ProbeConfig {
                max_interval_ms: 1e300,
                ..d
            },
            "probeMaxIntervalMs",
        ),
        (
            ProbeConfig {
                suspect_interval_ms: 1_000.0,
                ..d
            },
            "probeSuspectIntervalMs",
        ),
        (
            ProbeConfig {
                suspect_interval_ms: 400_000.0,
                ..d
            },
            "probeSuspectIntervalMs",
        ),
    ];
    for (cfg, key) in cases {
        let (k, msg) = cfg.validate().expect_err(key);
        assert_eq!(k, key);
        assert!(msg.starts_with(key), "{msg}");
        assert!(msg.len() <= 140, "{} chars: {msg}", msg.len());
    }
    // Out-of-range settings are clamped, never a panic.
    let p = Prober::new(ProbeConfig {
        min_interval_ms: f64::NAN,
        max_interval_ms: -5.0,
        suspect_interval_ms: 1e300,
        leak_interval_ms: f64::NAN,
        ..d
    });
    let c = p.config();
    assert_eq!((c.min_interval_ms, c.max_interval_ms), (100.0, 100.0));
    assert_eq!((c.suspect_interval_ms, c.leak_interval_ms), (100.0, 100.0));
    assert_eq!(p.interval_ms(), 100.0);
}
