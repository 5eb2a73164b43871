//! Test-only: a simulated Node service in simulated time, feeding the
//! detector the full GCs it would see with the prober attached.
//!
//! The model, per 500 ms timer tick (the JS probe timer's period):
//! - `live(t)` is the memory the program retains (bytes at `t` seconds);
//!   what it adds goes to old space; what it drops stays there until the
//!   next full GC.
//! - Garbage is promoted into old space at `promote` bytes/s (objects that
//!   survived two scavenges: requests in flight, buffers).
//! - The young generation fills at `alloc` bytes/s and is scavenged when it
//!   reaches `young`; the used heap the prober sees is old + young.
//! - V8 runs a full GC on its own when old space reaches `factor` x the last
//!   base (at least `min_step` more): its heap-growing heuristic.
//! - A probe starts incremental marking; its full GC ends `mark_ms` later (a
//!   natural GC in between is the same GC).
//! - A full GC's base is `live(t)` plus floating garbage: uniform in
//!   `0..noise`, and with probability `spike_p` another uniform `0..spike`
//!   (a batch job's table alive at that GC).

use super::leak::{LeakConfig, LeakDetector, LeakReport, LeakState, LeakStatus, Outcome};
use super::probe::{ProbeConfig, Prober};

pub const MB: f64 = 1024.0 * 1024.0;
/// Epoch offset so the detector sees real epoch ms.
pub const EPOCH: f64 = 1_767_225_600_000.0; // 2026-01-01T00:00:00Z
/// Node's default heap limit on a 64-bit machine with >= 16 GiB (measured:
/// `v8.getHeapStatistics().heap_size_limit` on Node 20-26 here).
pub const NODE_LIMIT: u64 = 4144 * 1024 * 1024;

/// A deterministic generator (64-bit LCG, high bits).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);
impl Rng {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
}

/// A simulated service (see the module docs).
pub struct Service {
    pub limit: u64,
    pub live: Box<dyn Fn(f64) -> f64>,
    pub noise: f64,
    pub spike_p: f64,
    pub spike: f64,
    pub promote: f64,
    pub alloc: f64,
    pub young: f64,
    pub factor: f64,
    pub min_step: f64,
    pub mark_ms: f64,
}

impl Service {
    /// A service retaining `live(t)`, with defaults for a busy small heap.
    pub fn new(live: impl Fn(f64) -> f64 + 'static) -> Service {
        Service {
            limit: NODE_LIMIT,
            live: Box::new(live),
            noise: 2.0 * MB,
            spike_p: 0.0,
            spike: 0.0,
            promote: 0.5 * MB,
            alloc: 20.0 * MB,
            young: 16.0 * MB,
            factor: 2.0,
            min_step: 8.0 * MB,
            mark_ms: 500.0,
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Reports with their time (s from the start).
    pub reports: Vec<(f64, LeakReport)>,
    /// Times (s) of `GrowthSuspected` outcomes.
    pub suspected: Vec<f64>,
    /// Full GCs V8 ran on its own.
    pub natural: u32,
    /// Times (s) of the full GCs a probe asked for.
    pub probe_s: Vec<f64>,
    /// Seconds spent suspected or leaking.
    pub watchful_s: f64,
    /// Status after the last GC.
    pub status: LeakStatus,
    /// Every GC as fed to the detector: (t ms from start, base, limit).
    pub gcs: Vec<(f64, u64, u64)>,
}

impl Run {
    /// Seconds from the start to the first report.
    pub fn first_report_s(&self) -> Option<f64> {
        self.reports.first().map(|(t, _)| *t)
    }
}

/// Runs `svc` for `secs` simulated seconds.
pub fn run(svc: &Service, secs: f64, cfg: LeakConfig, probe: ProbeConfig, seed: u64) -> Run {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5DEE_CE66);
    let mut det = LeakDetector::new(cfg);
    let mut prober = Prober::new(probe);
    let mut out = Run::default();
    let dt = 500.0;
    let mut t = 0.0;
    let mut live_prev = (svc.live)(0.0);
    let mut old = live_prev;
    let mut young = 0.0;
    let mut trigger = (old * svc.factor).max(old + svc.min_step);
    let mut pending: Option<f64> = None;
    while t < secs * 1000.0 {
        t += dt;
        let live = (svc.live)(t / 1000.0);
        old += svc.promote * dt / 1000.0 + (live - live_prev).max(0.0);
        live_prev = live;
        young += svc.alloc * dt / 1000.0;
        if young >= svc.young {
            young %= svc.young.max(1.0);
        }
        let natural = old >= trigger;
        let probed = pending.is_some_and(|p| p <= t);
        if natural || probed {
            let at = if natural { t } else { pending.unwrap_or(t) };
            if natural {
                out.natural += 1;
            } else {
                out.probe_s.push(at / 1000.0);
            }
            pending = None;
            let mut base = (svc.live)(at / 1000.0) + svc.noise * rng.unit();
            if rng.unit() < svc.spike_p {
                base += svc.spike * rng.unit();
            }
            let base = base.max(0.0) as u64;
            old = base as f64;
            young = 0.0;
            trigger = (old * svc.factor).max(old + svc.min_step);
            out.gcs.push((at, base, svc.limit));
            match det.observe(EPOCH + at, base, svc.limit) {
                Outcome::Nothing => {}
                Outcome::GrowthSuspected => out.suspected.push(at / 1000.0),
                Outcome::Leak(r) => out.reports.push((at / 1000.0, r)),
            }
            prober.full_gc(at, base);
        }
        let status = det.status();
        if status.state != LeakState::Flat {
            out.watchful_s += dt / 1000.0;
        }
        if pending.is_none() && prober.due(t, (old + young) as u64, &status) {
            pending = Some(t + svc.mark_ms);
        }
    }
    out.status = det.status();
    out
}

/// Replays recorded GCs `(t ms, base, limit)` through a detector.
pub fn replay(cfg: LeakConfig, seq: &[(f64, u64, u64)]) -> Run {
    let mut det = LeakDetector::new(cfg);
    let mut out = Run::default();
    for &(t, base, limit) in seq {
        match det.observe(EPOCH + t, base, limit) {
            Outcome::Nothing => {}
            Outcome::GrowthSuspected => out.suspected.push(t / 1000.0),
            Outcome::Leak(r) => out.reports.push((t / 1000.0, r)),
        }
    }
    out.status = det.status();
    out.gcs = seq.to_vec();
    out
}
