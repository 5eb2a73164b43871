//! Leak detection from the heap base after each full GC.
//!
//! The detector is fed one observation per full (mark-sweep-compact) GC:
//! its time, the *base* (V8's used heap size right after it) and the heap
//! size limit. It is pure: no clock, no I/O, no V8; the caller supplies
//! every number. docs/leak-detector.md gives the design and its reasons.
//!
//! The default rule ([`LeakRule::Rate`]) watches the heap's *floor*: for
//! each GC, the lowest base seen from that GC on. Garbage that happens to be
//! alive at a GC lifts single bases; retained memory lifts the floor. Over
//! spans that end at the newest GC and start on the floor (where a rise
//! began), the growth rate is estimated by Theil–Sen regression of the bases
//! (not of the floor, whose values depend on each other) with Sen's exact
//! rank-based confidence interval. A leak is reported when, on such a span:
//!
//! - the lower confidence bound of the rate is at least `minRateBytesPerHour`
//!   and at least `minRatePercent` of the starting floor per hour;
//! - the rise at that lower-bound rate over the span is at least
//!   `minSignalToNoise` times the scatter (how far bases sit above the
//!   floor), and at least `minGrowthBytes`;
//! - the growth is steady: the span starts on the fitted line (no step just
//!   after its start), the floor rose by a third and two thirds of the way,
//!   and kept rising over the last third;
//! - and it has lasted `graceMs` with at least 10 GCs (warm-up is not a
//!   leak), unless at the weaker (suspicion) bound of the rate the heap limit
//!   is less than `limitHorizonMs` away: then `minDurationMs` is enough,
//!   provided the growth exceeds every fall the heap showed among the
//!   remembered GCs (cycling memory is not a leak).
//!
//! A leak stays reported while it continues: further reports come at growing
//! intervals (`repeatMs`, doubling up to `repeatMaxMs`), always measured from
//! the floor before the growth began. When the rule has not held for
//! `graceMs`, the leak is over; a new growth is a new leak.
//!
//! Each observation also yields an [`Outcome`]: the first sign of growth
//! since the heap was flat ([`Outcome::GrowthSuspected`]), a report, or
//! nothing. [`LeakDetector::status`] gives the current estimate at any time.

#![forbid(unsafe_code)]

mod format;
mod rate;

pub use format::{format_classic_reason, format_reason, Dur, Eta, PerHour, Rate};

use crate::text::js_number;

use rate::{Fit, SenRanks, MAX_POINTS};

/// Which rule decides that the heap is leaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeakRule {
    /// The default: a robust estimate of the floor's growth rate, with a
    /// confidence bound, above thresholds (see the module docs).
    #[default]
    Rate,
    /// memwatch's rule: the base grew at `classicStreak` full GCs in a row
    /// (64-bit; the first GC is not growth; growth counts from the base
    /// before the streak).
    Classic,
}

const MIB: u64 = 1024 * 1024;
const HOUR_MS: f64 = 3_600_000.0;

/// Leak detector settings. Every field has a documented default and range
/// (the JS option name in backquotes); [`LeakConfig::validate`] checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakConfig {
    /// `rule`: the rule that reports. Default [`LeakRule::Rate`].
    pub rule: LeakRule,
    /// `minRateBytesPerHour`: the lower confidence bound of the floor's
    /// growth rate must be at least this many bytes per hour. Default
    /// 1,048,576 (1 MiB/h); 0 to 2^53-1.
    pub min_rate_bytes_per_hour: f64,
    /// `minRatePercent`: ...and at least this percentage of the floor where
    /// the growth started, per hour. Default 1; 0 to 10,000.
    pub min_rate_percent: f64,
    /// `confidence`: one-sided confidence of the rate's bounds. Default 0.95;
    /// 0.5 to 0.9999. Higher needs more GCs (4 at 0.95, 5 at 0.99, 7 at 0.999).
    pub confidence: f64,
    /// `minSignalToNoise`: the rise at the lower-bound rate over the growth
    /// period must be at least this many times the bases' scatter (how far a
    /// base typically sits above the floor: the garbage alive at a GC).
    /// Default 2.5; 0 to 1000.
    pub min_signal_to_noise: f64,
    /// `minGrowthBytes`: ...and at least this many bytes. Default 1,048,576
    /// (1 MiB); 0 to 2^53-1.
    pub min_growth_bytes: u64,
    /// `graceMs`: growth must have been sustained this long before it is
    /// reported (a cache filling, a JIT warming, a pool growing to its size
    /// stop before). Default 120,000 (2 min); 0 to 86,400,000.
    pub grace_ms: f64,
    /// `limitHorizonMs`: report without waiting for `graceMs` when, at the
    /// lower bound of the rate, the heap limit is less than this far away.
    /// Default 900,000 (15 min); 0 (never) to 86,400,000.
    pub limit_horizon_ms: f64,
    /// `minDurationMs`: no growth period shorter than this is reported, even
    /// near the heap limit (a program loading its data at start-up for less
    /// than this is not a leak). Default 15,000; 0 to 86,400,000, at most
    /// `windowMs`.
    pub min_duration_ms: f64,
    /// `windowMs`: GCs older than this are forgotten (older ones are thinned,
    /// not dropped, before that, keeping the floor). Default 21,600,000
    /// (6 h); 60,000 to 604,800,000, at least `graceMs` and `minDurationMs`.
    pub window_ms: f64,
    /// `repeatMs`: a leak that continues is reported again this long after
    /// its first report, then at doubling intervals. Default 120,000
    /// (2 min); 1,000 to 86,400,000.
    pub repeat_ms: f64,
    /// `repeatMaxMs`: the longest interval between reports of one
    /// continuing leak. Default 3,600,000 (1 h); `repeatMs` to 604,800,000.
    pub repeat_max_ms: f64,
    /// `classicStreak`: classic rule: report after this many consecutive
    /// growing full GCs. Default 5; 1 to 1000.
    pub classic_streak: u32,
}

impl Default for LeakConfig {
    fn default() -> Self {
        LeakConfig {
            rule: LeakRule::Rate,
            min_rate_bytes_per_hour: MIB as f64,
            min_rate_percent: 1.0,
            confidence: 0.95,
            min_signal_to_noise: 2.5,
            min_growth_bytes: MIB,
            grace_ms: 120_000.0,
            limit_horizon_ms: 900_000.0,
            min_duration_ms: 15_000.0,
            window_ms: 21_600_000.0,
            repeat_ms: 120_000.0,
            repeat_max_ms: 3_600_000.0,
            classic_streak: 5,
        }
    }
}

/// 2^53 - 1: the largest byte count JS numbers hold exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

type Invalid = (&'static str, String);

fn check_range(key: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), Invalid> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err((
            key,
            format!(
                "{key} must be a number from {} to {}, got {}",
                js_number(lo),
                js_number(hi),
                js_number(v)
            ),
        ))
    }
}

fn clamp_f(v: f64, lo: f64, hi: f64, default: f64) -> f64 {
    if v.is_nan() {
        default
    } else {
        v.clamp(lo, hi)
    }
}

impl LeakConfig {
    /// The smallest rate the rule reports from a floor of `base` bytes,
    /// bytes per ms.
    fn need_rate(&self, base: u64) -> f64 {
        self.min_rate_bytes_per_hour
            .max(self.min_rate_percent / 100.0 * base as f64)
            / HOUR_MS
    }

    /// Every field forced into its documented range (NaN takes the default).
    fn clamped(self) -> LeakConfig {
        let d = LeakConfig::default();
        let grace_ms = clamp_f(self.grace_ms, 0.0, 86_400_000.0, d.grace_ms);
        let min_duration_ms = clamp_f(self.min_duration_ms, 0.0, 86_400_000.0, d.min_duration_ms);
        let repeat_ms = clamp_f(self.repeat_ms, 1000.0, 86_400_000.0, d.repeat_ms);
        LeakConfig {
            rule: self.rule,
            min_rate_bytes_per_hour: clamp_f(
                self.min_rate_bytes_per_hour,
                0.0,
                MAX_SAFE,
                d.min_rate_bytes_per_hour,
            ),
            min_rate_percent: clamp_f(self.min_rate_percent, 0.0, 10_000.0, d.min_rate_percent),
            confidence: clamp_f(self.confidence, 0.5, 0.9999, d.confidence),
            min_signal_to_noise: clamp_f(
                self.min_signal_to_noise,
                0.0,
                1000.0,
                d.min_signal_to_noise,
            ),
            min_growth_bytes: self.min_growth_bytes.min(MAX_SAFE as u64),
            grace_ms,
            limit_horizon_ms: clamp_f(self.limit_horizon_ms, 0.0, 86_400_000.0, d.limit_horizon_ms),
            min_duration_ms,
            window_ms: clamp_f(self.window_ms, 60_000.0, 604_800_000.0, d.window_ms)
                .max(grace_ms)
                .max(min_duration_ms),
            repeat_ms,
            repeat_max_ms: clamp_f(self.repeat_max_ms, 1000.0, 604_800_000.0, d.repeat_max_ms)
                .max(repeat_ms),
            classic_streak: self.classic_streak.clamp(1, 1000),
        }
    }

    /// Checks every field against its documented range. On failure returns
    /// the option's JS name (camelCase) and a message fit for a `RangeError`
    /// (at most ~120 characters).
    pub fn validate(&self) -> Result<(), Invalid> {
        check_range(
            "minRateBytesPerHour",
            self.min_rate_bytes_per_hour,
            0.0,
            MAX_SAFE,
        )?;
        check_range("minRatePercent", self.min_rate_percent, 0.0, 10_000.0)?;
        check_range("confidence", self.confidence, 0.5, 0.9999)?;
        check_range("minSignalToNoise", self.min_signal_to_noise, 0.0, 1000.0)?;
        check_range(
            "minGrowthBytes",
            self.min_growth_bytes as f64,
            0.0,
            MAX_SAFE,
        )?;
        check_range("graceMs", self.grace_ms, 0.0, 86_400_000.0)?;
        check_range("limitHorizonMs", self.limit_horizon_ms, 0.0, 86_400_000.0)?;
        check_range("minDurationMs", self.min_duration_ms, 0.0, 86_400_000.0)?;
        check_range("windowMs", self.window_ms, 60_000.0, 604_800_000.0)?;
        for (other, v) in [
            ("graceMs", self.grace_ms),
            ("minDurationMs", self.min_duration_ms),
        ] {
            if self.window_ms < v {
                return Err((
                    "windowMs",
                    format!(
                        "windowMs ({}) must be at least {other} ({})",
                        js_number(self.window_ms),
                        js_number(v)
                    ),
                ));
            }
        }
        check_range("repeatMs", self.repeat_ms, 1000.0, 86_400_000.0)?;
        if !(self.repeat_max_ms.is_finite()
            && self.repeat_max_ms >= self.repeat_ms
            && self.repeat_max_ms <= 604_800_000.0)
        {
            return Err((
                "repeatMaxMs",
                format!(
                    "repeatMaxMs must be a number from repeatMs ({}) to 604800000, got {}",
                    js_number(self.repeat_ms),
                    js_number(self.repeat_max_ms)
                ),
            ));
        }
        if !(1..=1000).contains(&self.classic_streak) {
            return Err((
                "classicStreak",
                format!(
                    "classicStreak must be an integer from 1 to 1000, got {}",
                    self.classic_streak
                ),
            ));
        }
        Ok(())
    }
}

/// One `leak` event.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakReport {
    /// The GC whose base the growth is measured from: the floor before the
    /// growth began (epoch ms). Repeated reports of one leak keep it.
    pub start_ms: f64,
    /// The GC that triggered the report (epoch ms).
    pub end_ms: f64,
    /// Bytes the base grew from the start GC to the end GC (never negative).
    pub growth: u64,
    /// Full GCs after the start GC, up to and including the end GC.
    pub gcs: u32,
    /// memwatch-style text (see [`format_reason`]).
    pub reason: String,
    /// Estimated growth rate of the floor, bytes per hour (classic: the
    /// growth divided by the span; 0 for a span under 1 ms).
    pub rate: f64,
    /// The rate's confidence interval (low, high), bytes per hour: the one
    /// the report was decided on; `None` for the classic rule, which has no
    /// interval.
    pub rate_interval: Option<(f64, f64)>,
    /// One-sided confidence of each bound of `rate_interval`: `confidence`
    /// after the grace period, the weaker `1 - 4 (1 - confidence)` (0.8 by
    /// default) near the heap limit; 0 for the classic rule.
    pub confidence: f64,
    /// The heap size limit at the end GC, bytes (0: unknown).
    pub heap_limit: u64,
    /// Projected time until the heap limit at `rate`, ms; `None` when the
    /// heap is not growing toward it or the limit is unknown.
    pub limit_in_ms: Option<f64>,
    /// Points the rate estimate used (retained observations, at most 32).
    pub samples: u32,
    /// 0 for the first report of a leak, then 1, 2, ... while it continues.
    pub repeat: u32,
}

/// What one observation changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No news.
    Nothing,
    /// The floor started rising: the first sign of growth since the heap was
    /// last judged flat (not yet a leak; see [`LeakStatus`]).
    GrowthSuspected,
    /// A leak report (the first of a leak, or a repeat while it continues).
    Leak(LeakReport),
}

impl Outcome {
    /// The report, if this outcome is one.
    pub fn report(self) -> Option<LeakReport> {
        match self {
            Outcome::Leak(r) => Some(r),
            _ => None,
        }
    }
}

/// The detector's view of the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeakState {
    /// No sustained growth seen.
    #[default]
    Flat,
    /// The floor is rising, not (yet) enough to report.
    Suspected,
    /// A leak was reported and continues.
    Leaking,
}

/// The detector's current estimate, for metrics and for the probe.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LeakStatus {
    /// Flat, suspected growth, or a reported leak that continues.
    pub state: LeakState,
    /// When the growth being watched began (epoch ms): the leak's start
    /// while leaking, the start of the rise while suspected.
    pub since_ms: Option<f64>,
    /// Estimated growth rate of the floor, bytes per hour: over the growth
    /// period while suspected or leaking (when it still holds), over the
    /// whole remembered window otherwise. `None` until two GCs.
    pub rate: Option<f64>,
    /// The rate's confidence interval (low, high), bytes per hour, when the
    /// points reach the confidence (at least 4 at 0.95).
    pub rate_interval: Option<(f64, f64)>,
    /// The floor now: the lower of the newest two bases (one GC caught with
    /// a batch job's garbage does not lift it), bytes.
    pub floor: u64,
    /// Where the bases' fitted trend is at the newest GC, bytes: the
    /// retained heap plus the garbage typically alive at a full GC. The
    /// time to the heap limit is projected from it.
    pub level: u64,
    /// The heap size limit at the newest GC, bytes (0: unknown).
    pub heap_limit: u64,
    /// Projected time until the heap limit at `rate`, ms.
    pub limit_in_ms: Option<f64>,
    /// Observations retained (thinned past 128).
    pub samples: u32,
    /// Full GCs observed since the detector started.
    pub gcs: u64,
    /// Reports made for the current leak (0 unless leaking).
    pub reports: u32,
    /// The rate's lower confidence bound is at least the reportable rate
    /// (`minRateBytesPerHour`, `minRatePercent` of the floor): the heap has
    /// grown significantly, whether or not the growth is steady or long
    /// enough to suspect yet. The probe keeps its pace while it holds.
    pub rising: bool,
}

/// A retained GC observation. `n` counts the GCs it stands for (more than one
/// once old observations have been merged to bound memory): `t` and `base`
/// are those of the lowest of them (the floor survives thinning), `tm` and
/// `mean` their average time and base (what the rate is fitted on: an
/// average has the same expectation as one GC's base, a minimum does not).
/// `gc` is the running GC count at `t`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    t: f64,
    base: u64,
    tm: f64,
    mean: f64,
    n: u32,
    gc: u64,
}

/// At most this many observations are kept; beyond that, old ones are merged.
const MAX_SAMPLES: usize = 128;

/// A growth period past the grace period is reported on at least this many
/// GCs (near the heap limit, 3 are enough): with fewer, chance alignments of
/// a flat heap's scatter, tested at every GC for hours, get through.
const MIN_POINTS: usize = 10;

/// At most this many candidate growth periods are evaluated per GC.
const MAX_SPANS: usize = 24;

/// Successive candidate spans differ in length by at least this factor (more
/// when needed to cover the window with [`MAX_SPANS`] spans).
const SPAN_RATIO: f64 = 1.15;

/// The scatter is taken to be at least this share of the floor: a handful of
/// GCs that happen to agree closely are not evidence of a near-perfect line.
const MIN_SCATTER_SHARE: f64 = 0.005;

/// The scatter of a span is measured over at least this many recent GCs.
const MIN_SCATTER_GCS: usize = 24;

/// The rule is evaluated at most once per this much GC time (ms); every GC
/// is still recorded.
const EVAL_INTERVAL_MS: f64 = 250.0;

/// A backwards clock step up to this size (ms) is treated as "same instant";
/// a larger one restarts the detector from the new observation.
const CLOCK_SLACK_MS: f64 = 1000.0;

/// The evaluation of one candidate growth period (a span ending at the
/// newest GC).
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Index of the start sample.
    start: usize,
    /// Duration, ms.
    dur: f64,
    /// The fit at the configured confidence (bytes per ms, t from the start).
    fit: Fit,
    /// The slope's bounds at the (weaker) suspicion confidence.
    weak: (f64, f64),
    /// Decided on the near-the-limit path (before the grace period ended),
    /// on the weaker bounds.
    near_limit: bool,
    /// The rule holds.
    rule: bool,
    /// The weaker "growth suspected" test holds.
    suspect: bool,
    /// Figures behind the tests, for test diagnostics.
    #[cfg(test)]
    why: [f64; 6],
}

#[derive(Debug, Clone, Copy)]
struct Series {
    start: Sample,
    reports: u32,
    interval_ms: f64,
    next_ms: f64,
    last_seen_ms: f64,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Flat,
    Suspected { since_ms: f64, last_seen_ms: f64 },
    Leaking(Series),
}

/// Decides, one full GC at a time, whether the heap is leaking.
/// Memory use is bounded (at most 128 retained observations); the work per
/// GC is bounded (at most 24 fits of at most 32 points).
#[derive(Debug, Clone)]
pub struct LeakDetector {
    cfg: LeakConfig,
    ranks: SenRanks,
    ranks_suspect: SenRanks,
    samples: Vec<Sample>,
    gcs: u64,
    limit: u64,
    phase: Phase,
    status: LeakStatus,
    /// GC time of the last evaluation.
    evaluated_ms: Option<f64>,
    // Classic state: the GC the current streak grew from, and the streak length.
    streak_start: Option<Sample>,
    streak: u32,
    // Reused buffers.
    floor: Vec<u64>,
    pts: Vec<(f64, f64)>,
    scratch: Vec<f64>,
}

impl LeakDetector {
    /// A detector with the given settings. Settings should have passed
    /// [`LeakConfig::validate`]; out-of-range values are clamped into range
    /// (NaN takes the default), never a panic.
    pub fn new(cfg: LeakConfig) -> Self {
        let cfg = cfg.clamped();
        let ranks = SenRanks::new(cfg.confidence, MAX_POINTS);
        let ranks_suspect = SenRanks::new(suspect_confidence(cfg.confidence), MAX_POINTS);
        LeakDetector {
            cfg,
            ranks,
            ranks_suspect,
            samples: Vec::with_capacity(MAX_SAMPLES + 1),
            gcs: 0,
            limit: 0,
            phase: Phase::Flat,
            status: LeakStatus::default(),
            evaluated_ms: None,
            streak_start: None,
            streak: 0,
            floor: Vec::with_capacity(MAX_SAMPLES + 1),
            pts: Vec::with_capacity(MAX_SAMPLES + 1),
            scratch: Vec::with_capacity(MAX_POINTS * MAX_POINTS / 2 + MAX_SAMPLES),
        }
    }

    /// The settings in use (after clamping).
    pub fn config(&self) -> &LeakConfig {
        &self.cfg
    }

    /// The current estimate (updated by each observation; O(1)).
    pub fn status(&self) -> LeakStatus {
        self.status
    }

    /// Forgets every observation (the next GC starts afresh).
    pub fn reset(&mut self) {
        self.samples.clear();
        self.gcs = 0;
        self.limit = 0;
        self.phase = Phase::Flat;
        self.status = LeakStatus::default();
        self.evaluated_ms = None;
        self.streak_start = None;
        self.streak = 0;
    }

    /// Feeds one full GC: `t_ms` its time (epoch ms), `base` the used heap
    /// size right after it, `heap_limit` V8's heap size limit (bytes; 0 when
    /// unknown, which turns the near-the-limit exception off). Non-finite
    /// times are ignored; a clock that steps back more than 1 s restarts the
    /// detector.
    pub fn observe(&mut self, t_ms: f64, base: u64, heap_limit: u64) -> Outcome {
        if !t_ms.is_finite() {
            return Outcome::Nothing;
        }
        let mut t = t_ms;
        if let Some(last) = self.samples.last() {
            if t < last.t {
                if last.t - t <= CLOCK_SLACK_MS {
                    t = last.t;
                } else {
                    self.reset();
                }
            }
        }
        self.gcs += 1;
        self.limit = heap_limit;
        let s = Sample {
            t,
            base,
            tm: t,
            mean: base as f64,
            n: 1,
            gc: self.gcs,
        };
        let classic = match self.cfg.rule {
            LeakRule::Classic => self.observe_classic(s),
            LeakRule::Rate => None,
        };
        self.push(s);
        // At most one evaluation per EVAL_INTERVAL_MS of GC time: a burst of
        // full GCs (a heap at its limit runs them back to back) costs one.
        let outcome = if self.evaluated_ms.is_some_and(|e| t - e < EVAL_INTERVAL_MS) {
            self.status.gcs = self.gcs;
            self.status.samples = self.samples.len() as u32;
            self.status.heap_limit = heap_limit;
            Outcome::Nothing
        } else {
            self.evaluated_ms = Some(t);
            self.step()
        };
        match classic {
            Some(r) => Outcome::Leak(r),
            None => outcome,
        }
    }

    fn push(&mut self, s: Sample) {
        self.samples.push(s);
        // Forget observations older than the window.
        let oldest = s.t - self.cfg.window_ms;
        let drop = self.samples.iter().take_while(|x| x.t < oldest).count();
        if drop > 0 {
            self.samples.drain(..drop);
        }
        while self.samples.len() > MAX_SAMPLES {
            self.thin();
        }
    }

    /// Merges the two adjacent observations (never the newest) whose time
    /// gap is smallest relative to their age, keeping the lower base: recent
    /// history stays fine-grained, old history coarse, and the floor (the
    /// lowest base from any time on) is unchanged at every retained time.
    fn thin(&mut self) {
        let v = &mut self.samples;
        if v.len() < 3 {
            return;
        }
        let now = v[v.len() - 1].t;
        let mut best = 0;
        let mut best_score = f64::INFINITY;
        for i in 0..v.len() - 2 {
            let gap = v[i + 1].t - v[i].t;
            let age = (now - v[i].t).max(1.0);
            let score = gap / age;
            if score < best_score {
                best = i;
                best_score = score;
            }
        }
        let (a, b) = (v[best], v[best + 1]);
        let low = if b.base < a.base { b } else { a };
        let (wa, wb) = (f64::from(a.n), f64::from(b.n));
        v[best] = Sample {
            tm: (a.tm * wa + b.tm * wb) / (wa + wb),
            mean: (a.mean * wa + b.mean * wb) / (wa + wb),
            n: a.n.saturating_add(b.n),
            ..low
        };
        v.remove(best + 1);
    }

    fn observe_classic(&mut self, s: Sample) -> Option<LeakReport> {
        let prev = match self.samples.last() {
            Some(p) => *p,
            None => return None, // the first GC is a reference, not growth
        };
        if s.base > prev.base {
            if self.streak == 0 {
                self.streak_start = Some(prev);
            }
            self.streak = self.streak.saturating_add(1);
        } else {
            self.streak = 0;
            self.streak_start = None;
        }
        if self.streak < self.cfg.classic_streak {
            return None;
        }
        let start = self.streak_start.unwrap_or(prev);
        let gcs = self.streak;
        self.streak = 0;
        self.streak_start = None;
        let growth = s.base.saturating_sub(start.base);
        let dur = s.t - start.t;
        let rate = if dur >= 1.0 {
            growth as f64 / dur * HOUR_MS
        } else {
            0.0
        };
        let limit_in_ms = time_to_limit(s.base as f64, rate / HOUR_MS, self.limit);
        Some(LeakReport {
            start_ms: start.t,
            end_ms: s.t,
            growth,
            gcs,
            reason: format_classic_reason(gcs, dur, growth),
            rate,
            rate_interval: None,
            confidence: 0.0,
            heap_limit: self.limit,
            limit_in_ms,
            samples: gcs.saturating_add(1),
            repeat: 0,
        })
    }

    /// Evaluates the candidate spans, moves the state machine, updates the
    /// status and says what changed.
    fn step(&mut self) -> Outcome {
        let spans = self.evaluate();
        let now = self.samples.last().map_or(0.0, |s| s.t);
        let rate_rule = self.cfg.rule == LeakRule::Rate;
        // The longest span where the rule holds / growth is suspected.
        let rule = spans.iter().find(|s| s.rule && rate_rule).copied();
        let suspect = spans.iter().find(|s| s.suspect).copied();
        let grace = self.cfg.grace_ms;
        let mut outcome = Outcome::Nothing;
        self.phase = match (self.phase, rule) {
            (Phase::Leaking(mut series), _) => {
                if let Some(r) = rule {
                    series.last_seen_ms = now;
                    if now >= series.next_ms {
                        outcome = Outcome::Leak(self.report(&r, &series));
                        series.reports = series.reports.saturating_add(1);
                        series.interval_ms = (series.interval_ms * 2.0).min(self.cfg.repeat_max_ms);
                        series.next_ms = now + series.interval_ms;
                    }
                    Phase::Leaking(series)
                } else if suspect.is_some() {
                    // Still rising, just not enough to report right now.
                    series.last_seen_ms = now;
                    Phase::Leaking(series)
                } else if now - series.last_seen_ms >= grace {
                    Phase::Flat // the leak stopped; new growth is a new leak
                } else {
                    Phase::Leaking(series)
                }
            }
            (_, Some(r)) => {
                let mut series = Series {
                    start: self.samples[r.start],
                    reports: 0,
                    interval_ms: self.cfg.repeat_ms,
                    next_ms: now + self.cfg.repeat_ms,
                    last_seen_ms: now,
                };
                outcome = Outcome::Leak(self.report(&r, &series));
                series.reports = 1;
                Phase::Leaking(series)
            }
            (Phase::Flat, None) => match suspect {
                Some(s) => {
                    outcome = Outcome::GrowthSuspected;
                    Phase::Suspected {
                        since_ms: self.samples[s.start].t,
                        last_seen_ms: now,
                    }
                }
                None => Phase::Flat,
            },
            (
                Phase::Suspected {
                    since_ms,
                    last_seen_ms,
                },
                None,
            ) => {
                if suspect.is_some() {
                    Phase::Suspected {
                        since_ms,
                        last_seen_ms: now,
                    }
                } else if now - last_seen_ms >= grace {
                    Phase::Flat
                } else {
                    Phase::Suspected {
                        since_ms,
                        last_seen_ms,
                    }
                }
            }
        };
        self.update_status(&spans, rule, suspect);
        outcome
    }

    fn report(&self, r: &Span, series: &Series) -> LeakReport {
        let end = *self.samples.last().unwrap_or(&series.start);
        let start = series.start;
        let dur = end.t - start.t;
        let gcs = u32::try_from(end.gc.saturating_sub(start.gc)).unwrap_or(u32::MAX);
        let rate = r.fit.slope * HOUR_MS;
        let level = self.level_now(r);
        let limit_in_ms = time_to_limit(level, r.fit.slope, self.limit);
        let (bounds, confidence) = if r.near_limit {
            (r.weak, suspect_confidence(self.cfg.confidence))
        } else {
            ((r.fit.low, r.fit.high), self.cfg.confidence)
        };
        LeakReport {
            start_ms: start.t,
            end_ms: end.t,
            growth: end.base.saturating_sub(start.base),
            gcs,
            reason: format_reason(gcs, dur, rate, limit_in_ms),
            rate,
            rate_interval: Some((bounds.0 * HOUR_MS, bounds.1 * HOUR_MS)),
            confidence,
            heap_limit: self.limit,
            limit_in_ms,
            samples: r.fit.n as u32,
            repeat: series.reports,
        }
    }

    /// The fitted floor at the newest GC, bytes.
    fn level_now(&self, s: &Span) -> f64 {
        s.fit.at(s.dur).max(0.0)
    }

    fn update_status(&mut self, spans: &[Span], rule: Option<Span>, suspect: Option<Span>) {
        let (state, since_ms, reports) = match self.phase {
            Phase::Flat => (LeakState::Flat, None, 0),
            Phase::Suspected { since_ms, .. } => (LeakState::Suspected, Some(since_ms), 0),
            Phase::Leaking(s) => (LeakState::Leaking, Some(s.start.t), s.reports),
        };
        // The estimate: over the growth period when there is one, otherwise
        // over the whole window (from the oldest retained GC, floor or not).
        let whole = |this: &mut Self| match spans.first() {
            Some(s) if s.start == 0 => Some(*s),
            _ if this.samples.len() >= 2 => this.span(0, 0.0),
            _ => None,
        };
        let span = match state {
            LeakState::Flat => whole(self),
            _ => match rule.or(suspect) {
                Some(s) => Some(s),
                None => whole(self),
            },
        };
        let mut status = LeakStatus {
            state,
            since_ms,
            heap_limit: self.limit,
            samples: self.samples.len() as u32,
            gcs: self.gcs,
            reports,
            floor: self.samples[self.samples.len().saturating_sub(2)..]
                .iter()
                .map(|s| s.base)
                .min()
                .unwrap_or(0),
            ..LeakStatus::default()
        };
        if let Some(s) = span {
            let level = self.level_now(&s);
            status.rate = Some(s.fit.slope * HOUR_MS);
            if s.fit.low.is_finite() && s.fit.high.is_finite() {
                status.rate_interval = Some((s.fit.low * HOUR_MS, s.fit.high * HOUR_MS));
            }
            status.rising = s.fit.low.is_finite() && s.fit.low >= self.cfg.need_rate(status.floor);
            status.level = level.min(u64::MAX as f64) as u64;
            status.limit_in_ms = time_to_limit(level, s.fit.slope, self.limit);
        }
        self.status = status;
    }

    /// Fits every candidate span (longest first) and applies the tests.
    fn evaluate(&mut self) -> Vec<Span> {
        let v = &self.samples;
        let Some(k) = v.len().checked_sub(1) else {
            return Vec::new();
        };
        let end = v[k];
        // floor[i] = lowest base from observation i to the newest.
        self.floor.clear();
        self.floor.resize(v.len(), 0);
        let mut m = u64::MAX;
        for i in (0..v.len()).rev() {
            m = m.min(v[i].base);
            self.floor[i] = m;
        }
        // The largest fall from a base to a later one among retained GCs.
        let dip = v
            .iter()
            .zip(&self.floor)
            .map(|(x, f)| x.base - f)
            .max()
            .unwrap_or(0) as f64;
        // Candidate starts: GCs on the floor (the base before a rise), their
        // lengths spaced geometrically from the shortest to the longest
        // (always kept), longest first. Suspicion (which only steers
        // sampling) looks at spans from a quarter of minDurationMs; the rule
        // needs minDurationMs.
        let min_dur = (self.cfg.min_duration_ms / 4.0).max(1.0);
        let on_floor = |i: usize| v[i].base == self.floor[i] && end.t - v[i].t >= min_dur;
        let Some(oldest) = (0..k).find(|&i| on_floor(i)) else {
            return Vec::new();
        };
        let longest = end.t - v[oldest].t;
        let ratio = (longest / min_dur)
            .powf(1.0 / (MAX_SPANS - 1) as f64)
            .max(SPAN_RATIO);
        let mut starts: Vec<usize> = Vec::with_capacity(MAX_SPANS);
        let mut last_dur = 0.0;
        for i in (oldest + 1..k).rev() {
            let dur = end.t - v[i].t;
            if on_floor(i)
                && (starts.is_empty() || dur >= last_dur * ratio)
                && dur * ratio <= longest
                && starts.len() < MAX_SPANS - 1
            {
                starts.push(i);
                last_dur = dur;
            }
        }
        starts.push(oldest);
        starts.reverse();
        let mut spans = Vec::with_capacity(starts.len());
        for i in starts {
            if let Some(s) = self.span(i, dip) {
                spans.push(s);
            }
        }
        spans
    }

    /// Fits and tests the span from sample `i` to the newest.
    fn span(&mut self, i: usize, dip: f64) -> Option<Span> {
        let v = &self.samples;
        let k = v.len() - 1;
        let (start, end) = (v[i], v[k]);
        let dur = end.t - start.t;
        // The bases (averages for merged GCs), binned to at most MAX_POINTS
        // by time: each bin is the GC-weighted average of its samples.
        self.pts.clear();
        let count = k - i + 1;
        let y0 = start.base as f64;
        if count <= MAX_POINTS {
            for x in &v[i..=k] {
                self.pts.push((x.tm - start.t, x.mean - y0));
            }
        } else {
            let width = dur / MAX_POINTS as f64;
            let mut bin = usize::MAX;
            let (mut w, mut st, mut sy) = (0.0, 0.0, 0.0);
            for x in &v[i..=k] {
                let b = (((x.t - start.t) / width) as usize).min(MAX_POINTS - 1);
                if b != bin && w > 0.0 {
                    self.pts.push((st / w, sy / w));
                    (w, st, sy) = (0.0, 0.0, 0.0);
                }
                bin = b;
                let n = f64::from(x.n);
                w += n;
                st += n * (x.tm - start.t);
                sy += n * (x.mean - y0);
            }
            if w > 0.0 {
                self.pts.push((st / w, sy / w));
            }
        }
        let (fit, weak) = rate::theil_sen2(
            &self.pts,
            &self.ranks,
            &self.ranks_suspect,
            &mut self.scratch,
        )?;
        let low_suspect = weak.0;
        // The scatter: how far a base typically sits above the floor from
        // there on: the upper quartile of the heights of single GCs' bases
        // above it, over the span and at least the last MIN_SCATTER_GCS
        // retained GCs (a short span's few GCs may agree by chance), the
        // newest excluded (it is its own floor). GCs on the floor count as
        // height 0: on a flat, noisy heap few are (about ln n of n), on a
        // clean trend nearly all are, so one GC caught mid-way through a
        // start-up does not set the scale alone. It needs no fitted line, so
        // neither a trend nor a poor fit (a rise that stopped) inflates it.
        let from = i.min((k + 1).saturating_sub(MIN_SCATTER_GCS));
        let singles = v[from..k].iter().filter(|x| x.n == 1).count();
        self.scratch.clear();
        for (x, &f) in v[from..k].iter().zip(&self.floor[from..k]) {
            if x.n == 1 || singles < 3 {
                self.scratch.push((x.mean - f as f64).max(0.0));
            }
        }
        let measured = rate::quantile(&mut self.scratch, 0.75);
        let scatter = measured.max(MIN_SCATTER_SHARE * start.base as f64);
        let c = &self.cfg;
        // Rate thresholds, bytes per ms.
        let need_rate = c.need_rate(start.base);
        let need_rise = (c.min_signal_to_noise * scatter).max(c.min_growth_bytes as f64);
        // Steady growth. The span starts on the line (no step up just after
        // its start: that is a warm-up followed by something else)...
        let tol = (2.0 * scatter).max(0.25 * fit.slope.max(0.0) * dur);
        let on_line = fit.at(0.0) - tol <= 0.0;
        // ...the floor rose all along: at a third and two thirds of the span
        // it is up by at least half what the rate predicts (a flat series
        // whose newest GCs caught a batch job's garbage is not)...
        let slope = fit.slope.max(0.0);
        let at = |frac: f64| {
            let t = start.t + dur * frac;
            (i..=k).rev().find(|&j| v[j].t <= t).unwrap_or(i)
        };
        let risen = |j: usize, from: usize| {
            let observed = self.floor[j] as f64 - self.floor[from] as f64;
            let expected = slope * (v[j].t - v[from].t);
            observed >= 0.5 * expected - 2.0 * scatter
        };
        let (j1, j2) = (at(1.0 / 3.0), at(2.0 / 3.0));
        // ...and kept rising over the last third, judged on the floor of the
        // newest two GCs (one GC full of garbage does not make a rise).
        let two_recent = k >= 1 && k - 1 > j2;
        let end_j = if two_recent { k - 1 } else { k };
        let steady = on_line && risen(j1, i) && risen(j2, i) && risen(end_j, j2);
        #[cfg(test)]
        let (recent_rise, expected) = (
            self.floor[end_j] as f64 - self.floor[j2] as f64,
            slope * (v[end_j].t - v[j2].t),
        );
        let passes = |low: f64| low > 0.0 && low >= need_rate && low * dur >= need_rise;
        let near_limit = dur < c.grace_ms;
        let rule = steady
            && dur >= c.min_duration_ms
            && if !near_limit {
                // After a grace period the last third must hold two GCs:
                // on sparse samples (a backed-off probe) the newest GC
                // alone, caught with a batch job's garbage, is no rise.
                two_recent && fit.n >= MIN_POINTS && passes(fit.low)
            } else {
                // Near the heap limit waiting would cost the process, and a
                // miss costs more than a false report: the weaker
                // (suspicion) bound, which 3 GCs can reach, is enough.
                let level = y0 + fit.at(dur);
                let eta = time_to_limit(level, low_suspect, self.limit);
                passes(low_suspect)
                    && eta.is_some_and(|ms| ms <= c.limit_horizon_ms)
                    && fit.slope * dur >= dip
            };
        // Suspicion: the weaker bound, 60% of the evidence, half the bytes.
        let need_suspect =
            (0.6 * c.min_signal_to_noise * scatter).max(c.min_growth_bytes as f64 / 2.0);
        let suspect = steady
            && low_suspect > 0.0
            && low_suspect >= need_rate
            && low_suspect * dur >= need_suspect;
        let mut fit = fit;
        fit.intercept += y0; // back to absolute bytes
        Some(Span {
            start: i,
            dur,
            fit,
            weak,
            near_limit,
            rule,
            suspect,
            #[cfg(test)]
            why: [scatter, need_rise, low_suspect, recent_rise, expected, dip],
        })
    }
}

#[cfg(test)]
impl LeakDetector {
    /// Test diagnostics: one line per candidate span of the newest
    /// evaluation.
    pub(crate) fn explain(&mut self) -> Vec<String> {
        let spans = self.evaluate();
        spans
            .iter()
            .map(|s| {
                format!(
                    "start {:.1}s dur {:.1}s n {} slope {:.2} low {:.2} high {:.2} MB/h | scatter {:.2} need {:.2} lowS {:.2} recent {:.2}/{:.2} dip {:.2} MB | rule {} suspect {}",
                    (self.samples[s.start].t - self.samples[0].t) / 1000.0,
                    s.dur / 1000.0,
                    s.fit.n,
                    s.fit.slope * HOUR_MS / 1048576.0,
                    s.fit.low * HOUR_MS / 1048576.0,
                    s.fit.high * HOUR_MS / 1048576.0,
                    s.why[0] / 1048576.0,
                    s.why[1] / 1048576.0,
                    s.why[2] * HOUR_MS / 1048576.0,
                    s.why[3] / 1048576.0,
                    s.why[4] / 1048576.0,
                    s.why[5] / 1048576.0,
                    s.rule,
                    s.suspect
                )
            })
            .collect()
    }
}

/// The weaker confidence of the "growth suspected" test and of the
/// near-the-limit path: four times the miss rate (0.95 gives 0.8; the
/// configured confidence is at least 0.5, so this is at least -1, which
/// simply means "no lower bound" for the ranks).
fn suspect_confidence(confidence: f64) -> f64 {
    // Rounded so that 0.95 gives 0.8, not 0.7999999999999998.
    ((1.0 - 4.0 * (1.0 - confidence)) * 1e9).round() / 1e9
}

/// Time until `level` reaches `limit` at `slope` bytes per ms; `None` when
/// the limit is unknown or the slope is not positive.
fn time_to_limit(level: f64, slope: f64, limit: u64) -> Option<f64> {
    if limit == 0 || slope.is_nan() || slope <= 0.0 || !level.is_finite() {
        return None;
    }
    let left = (limit as f64 - level).max(0.0);
    Some(left / slope)
}

#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
mod tests;
