//! Leak detection from the heap base after each full GC.
//!
//! The detector is fed one `(time, base)` pair per full (mark-sweep-compact)
//! GC, where `base` is the V8 used heap size right after that GC, and decides
//! whether to report a leak. It is pure: no clock, no I/O, no V8.
//!
//! The default rule ([`LeakRule::Trend`]) watches the heap's *floor*: for each
//! GC, the lowest base seen from that GC on. Garbage that happens to be alive
//! at a GC only lifts single bases; retained memory lifts the floor. A leak is
//! reported when the floor has risen for at least 12 s and 2 more full GCs,
//! by at least 4 MiB and 50% of where it started, at a steady pace (close to
//! a straight line, both halves of the period rising at comparable rates),
//! and by far more than any fall the heap has shown recently (a heap that
//! frees memory in bulk is cycling, not leaking).
//! After a report the detector re-arms from the reporting GC.

#![forbid(unsafe_code)]

use std::fmt;

/// Which rule decides that the heap is leaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeakRule {
    /// The default: the heap floor (the lowest base from a GC onwards) rose
    /// steadily for a minimum time and number of GCs, by a minimum amount.
    #[default]
    Trend,
    /// memwatch's rule: the base grew at `classicStreak` full GCs in a row
    /// (64-bit; the first GC is not growth; growth counts from the base
    /// before the streak).
    Classic,
}

/// Leak detector settings. Every field has a documented default and range;
/// [`LeakConfig::validate`] checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakConfig {
    /// The rule to apply. Default: [`LeakRule::Trend`].
    pub rule: LeakRule,
    /// Trend: the floor must have been rising for at least this long (ms).
    /// Default 12,000; 0 to 86,400,000.
    pub min_duration_ms: f64,
    /// Trend: at least this many full GCs after the one the growth started
    /// from. Default 2; 2 to 1000.
    pub min_gcs: u32,
    /// Trend: the floor must have risen by at least this many bytes.
    /// Default 4 MiB (4,194,304); any value.
    pub min_growth_bytes: u64,
    /// Trend: and by at least this percentage of the base it started from.
    /// Default 50; 0 to 10,000.
    pub min_growth_percent: f64,
    /// Trend: at every GC of the growth period, the floor must lie within
    /// this fraction of the growth from the straight line between the start
    /// and the end. Default 0.15; 0 to 1.
    pub max_deviation: f64,
    /// Trend: the largest fall from one base to a later one among the
    /// remembered GCs may be at most this fraction of the growth (a heap that
    /// frees memory in bulk is cycling, so its rise must dwarf its falls).
    /// Default 0.15; 0 to 1.
    pub max_dip: f64,
    /// Trend: GCs older than this (ms) are forgotten, so no growth period is
    /// longer. Default 1,800,000 (30 min); 1000 to 604,800,000, and at least
    /// `minDurationMs`.
    pub window_ms: f64,
    /// Classic: report after this many consecutive growing full GCs.
    /// Default 5; 1 to 1000.
    pub classic_streak: u32,
}

impl Default for LeakConfig {
    fn default() -> Self {
        LeakConfig {
            rule: LeakRule::Trend,
            min_duration_ms: 12_000.0,
            min_gcs: 2,
            min_growth_bytes: 4 * MIB,
            min_growth_percent: 50.0,
            max_deviation: 0.15,
            max_dip: 0.15,
            window_ms: 1_800_000.0,
            classic_streak: 5,
        }
    }
}

const MIB: u64 = 1024 * 1024;

fn check_range(key: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), (&'static str, String)> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err((
            key,
            format!(
                "{key} must be a number from {lo} to {hi}, got {}",
                crate::text::js_number(v)
            ),
        ))
    }
}

fn check_count(key: &'static str, v: u32, lo: u32, hi: u32) -> Result<(), (&'static str, String)> {
    if v >= lo && v <= hi {
        Ok(())
    } else {
        Err((
            key,
            format!("{key} must be an integer from {lo} to {hi}, got {v}"),
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
    /// Every field forced into its documented range.
    fn clamped(self) -> LeakConfig {
        let d = LeakConfig::default();
        let min_duration_ms = clamp_f(self.min_duration_ms, 0.0, 86_400_000.0, d.min_duration_ms);
        LeakConfig {
            rule: self.rule,
            min_duration_ms,
            min_gcs: self.min_gcs.clamp(2, 1000),
            min_growth_bytes: self.min_growth_bytes,
            min_growth_percent: clamp_f(
                self.min_growth_percent,
                0.0,
                10_000.0,
                d.min_growth_percent,
            ),
            max_deviation: clamp_f(self.max_deviation, 0.0, 1.0, d.max_deviation),
            max_dip: clamp_f(self.max_dip, 0.0, 1.0, d.max_dip),
            window_ms: clamp_f(self.window_ms, 1000.0, 604_800_000.0, d.window_ms)
                .max(min_duration_ms),
            classic_streak: self.classic_streak.clamp(1, 1000),
        }
    }

    /// Checks every field against its documented range. On failure returns
    /// the option's JS name (camelCase) and a message fit for a `RangeError`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        check_range("minDurationMs", self.min_duration_ms, 0.0, 86_400_000.0)?;
        check_count("minGcs", self.min_gcs, 2, 1000)?;
        check_range("minGrowthPercent", self.min_growth_percent, 0.0, 10_000.0)?;
        check_range("maxDeviation", self.max_deviation, 0.0, 1.0)?;
        check_range("maxDip", self.max_dip, 0.0, 1.0)?;
        check_range("windowMs", self.window_ms, 1000.0, 604_800_000.0)?;
        if self.window_ms < self.min_duration_ms {
            return Err((
                "windowMs",
                format!(
                    "windowMs ({}) must be at least minDurationMs ({})",
                    crate::text::js_number(self.window_ms),
                    crate::text::js_number(self.min_duration_ms)
                ),
            ));
        }
        check_count("classicStreak", self.classic_streak, 1, 1000)?;
        Ok(())
    }
}

/// One `leak` event: the heap grew from `start_ms` to `end_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakReport {
    /// When the growth began: the GC whose base the growth is measured from (epoch ms).
    pub start_ms: f64,
    /// The GC that triggered the report (epoch ms).
    pub end_ms: f64,
    /// Bytes the base grew from the start GC to the end GC.
    pub growth: u64,
    /// Full GCs after the start GC, up to and including the end GC.
    pub gcs: u32,
    /// memwatch-style text, e.g. `heap growth over 5 consecutive GCs (20s) - 11.67 mb/hr`.
    pub reason: String,
}

/// A retained GC observation. `n` counts the GCs it stands for (more than one
/// once old observations have been merged to bound memory).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    t: f64,
    base: u64,
    n: u32,
}

/// At most this many observations are kept; beyond that, old ones are merged.
const MAX_SAMPLES: usize = 128;

/// A backwards clock step up to this size (ms) is treated as "same instant";
/// a larger one restarts the detector from the new observation.
const CLOCK_SLACK_MS: f64 = 1000.0;

/// Decides, one full GC at a time, whether the heap is leaking.
/// Memory use is bounded (at most 128 retained observations).
#[derive(Debug, Clone)]
pub struct LeakDetector {
    cfg: LeakConfig,
    samples: Vec<Sample>,
    // Classic state: the GC the current streak grew from, and the streak length.
    streak_start: Option<Sample>,
    streak: u32,
}

impl LeakDetector {
    /// A detector with the given settings. Settings should have passed
    /// [`LeakConfig::validate`]; out-of-range values are clamped into range
    /// (NaN takes the default), never a panic.
    pub fn new(cfg: LeakConfig) -> Self {
        let cfg = cfg.clamped();
        LeakDetector {
            cfg,
            samples: Vec::with_capacity(MAX_SAMPLES + 1),
            streak_start: None,
            streak: 0,
        }
    }

    /// The settings in use (after clamping).
    pub fn config(&self) -> &LeakConfig {
        &self.cfg
    }

    /// Forgets every observation (the next GC starts afresh).
    pub fn reset(&mut self) {
        self.samples.clear();
        self.streak_start = None;
        self.streak = 0;
    }

    /// Feeds one full GC: `t_ms` its time (epoch ms), `base` the used heap
    /// size right after it (bytes). Returns a report when a leak is detected;
    /// after a report the detector re-arms from this GC. Non-finite times are
    /// ignored; a clock that steps back more than 1 s restarts the detector.
    pub fn observe(&mut self, t_ms: f64, base: u64) -> Option<LeakReport> {
        if !t_ms.is_finite() {
            return None;
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
        let s = Sample { t, base, n: 1 };
        let report = match self.cfg.rule {
            LeakRule::Classic => self.observe_classic(s),
            LeakRule::Trend => None,
        };
        self.push(s);
        if report.is_some() {
            return report;
        }
        if self.cfg.rule == LeakRule::Trend {
            if let Some(r) = self.evaluate_trend() {
                // Re-arm: the growth after this report is measured from this GC.
                self.samples.clear();
                self.samples.push(s);
                return Some(r);
            }
        }
        None
    }

    fn push(&mut self, s: Sample) {
        self.samples.push(s);
        // Forget observations older than the window.
        let oldest = s.t - self.cfg.window_ms;
        let drop = self.samples.iter().take_while(|x| x.t < oldest).count();
        if drop > 0 {
            self.samples.drain(..drop);
        }
        if self.samples.len() > MAX_SAMPLES {
            self.decimate();
        }
    }

    /// Merges the two adjacent observations (never the newest) whose time
    /// gap is smallest relative to their age, keeping the lower base: recent
    /// history stays fine-grained, old history coarse, the floor survives.
    fn decimate(&mut self) {
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
        v[best] = Sample {
            t: low.t,
            base: low.base,
            n: a.n.saturating_add(b.n),
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
        if self.streak >= self.cfg.classic_streak {
            let start = self.streak_start.unwrap_or(prev);
            let gcs = self.streak;
            self.streak = 0;
            self.streak_start = None;
            let growth = s.base.saturating_sub(start.base);
            let reason = format!(
                "heap growth over {} consecutive GCs ({}) - {}",
                gcs,
                Dur(s.t - start.t),
                Rate(growth, s.t - start.t)
            );
            return Some(LeakReport {
                start_ms: start.t,
                end_ms: s.t,
                growth,
                gcs,
                reason,
            });
        }
        None
    }

    /// The trend rule over the retained observations; the newest is the end.
    fn evaluate_trend(&self) -> Option<LeakReport> {
        let v = &self.samples;
        let k = v.len().checked_sub(1)?;
        let end = v[k];
        // floor[i] = lowest base from observation i to the newest.
        let mut floor = vec![0u64; v.len()];
        let mut m = u64::MAX;
        for i in (0..v.len()).rev() {
            m = m.min(v[i].base);
            floor[i] = m;
        }
        // The largest fall from a base to a later one among all remembered GCs.
        let dip = v
            .iter()
            .zip(&floor)
            .map(|(x, f)| x.base - f)
            .max()
            .unwrap_or(0);
        let c = &self.cfg;
        // Earliest qualifying start first: growth is measured from the base
        // before it began.
        for s in 0..k {
            let start = v[s];
            if start.base != floor[s] {
                continue; // a later GC went lower: growth had not begun here
            }
            let dur = end.t - start.t;
            if dur < c.min_duration_ms || dur <= 0.0 {
                continue;
            }
            let gcs: u32 = v[s + 1..=k].iter().fold(0u32, |a, x| a.saturating_add(x.n));
            if gcs < c.min_gcs {
                continue;
            }
            let growth = end.base - start.base; // floor[s] <= end.base
            let need_pct = start.base as f64 * c.min_growth_percent / 100.0;
            if growth < c.min_growth_bytes || (growth as f64) < need_pct || growth == 0 {
                continue;
            }
            if dip as f64 > c.max_dip * growth as f64 {
                continue;
            }
            // Steadiness: at every GC in between, the floor stays near the
            // straight line from the start to the end (both as shares).
            let g = growth as f64;
            let off_line = v[s + 1..k].iter().zip(&floor[s + 1..k]).any(|(x, &f)| {
                let along = (x.t - start.t) / dur;
                let risen = (f - start.base) as f64 / g;
                (risen - along).abs() > c.max_deviation
            });
            if off_line {
                continue;
            }
            let reason = format!(
                "heap growth over {} GCs ({}) - {}",
                gcs,
                Dur(dur),
                Rate(growth, dur)
            );
            return Some(LeakReport {
                start_ms: start.t,
                end_ms: end.t,
                growth,
                gcs,
                reason,
            });
        }
        None
    }
}

/// A duration in ms, printed like memwatch: `20s`, `4m 5s`, `2h 3m`; below
/// 10 s with one decimal.
struct Dur(f64);

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = if self.0.is_finite() {
            self.0.max(0.0)
        } else {
            0.0
        };
        let s = ms / 1000.0;
        if s < 10.0 {
            return write!(f, "{:.1}s", s);
        }
        let t = s.round() as u64; // saturates for absurd spans
        if t < 60 {
            write!(f, "{}s", t)
        } else if t < 3600 {
            write!(f, "{}m {}s", t / 60, t % 60)
        } else {
            let m = t.saturating_add(30) / 60;
            write!(f, "{}h {}m", m / 60, m % 60)
        }
    }
}

/// A growth rate, `x.xx mb/hr` (MiB per hour); when the span is too short to
/// measure, the growth itself (`x.xx mb at once`).
struct Rate(u64, f64);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mb = self.0 as f64 / MIB as f64;
        if self.1.is_finite() && self.1 >= 1.0 {
            write!(f, "{:.2} mb/hr", mb / (self.1 / 3_600_000.0))
        } else {
            write!(f, "{:.2} mb at once", mb)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(name, JSON text)` of every recorded fixture: `[[t_ms, base_bytes], ...]`,
    /// `t_ms` counted from process start (`node --trace-gc`).
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

    /// Epoch offset added to fixture times so the detector sees real epoch ms.
    const EPOCH: f64 = 1_767_225_600_000.0; // 2026-01-01T00:00:00Z
    const MB: u64 = 1024 * 1024;

    fn load(text: &str) -> Vec<(f64, u64)> {
        serde_json::from_str(text).expect("fixture is [[t_ms, base_bytes], ...]")
    }

    fn feed(cfg: LeakConfig, seq: &[(f64, u64)]) -> Vec<LeakReport> {
        let mut d = LeakDetector::new(cfg);
        seq.iter()
            .filter_map(|&(t, b)| d.observe(EPOCH + t, b))
            .collect()
    }

    fn classic() -> LeakConfig {
        LeakConfig {
            rule: LeakRule::Classic,
            ..LeakConfig::default()
        }
    }

    fn kind(name: &str) -> &'static str {
        if name.starts_with("leak-chain-") || name.starts_with("leak-listeners-") {
            "fast-leak"
        } else if name.starts_with("leak-") {
            "slow-leak"
        } else {
            "no-leak"
        }
    }

    /// A deterministic pseudo-random source for synthetic noise.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        /// Uniform in 0..n.
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    fn assert_sane(r: &LeakReport) {
        assert!(r.end_ms >= r.start_ms, "{r:?}");
        assert!(r.gcs >= 1, "{r:?}");
        for bad in ["NaN", "inf", "-2147483648", "- -"] {
            assert!(!r.reason.contains(bad), "{r:?}");
        }
        assert!(r.reason.starts_with("heap growth over "), "{r:?}");
        assert!(
            r.reason.ends_with(" mb/hr") || r.reason.ends_with(" mb at once"),
            "{r:?}"
        );
    }

    // ---- fixtures -------------------------------------------------------

    #[test]
    fn fixture_list_is_complete() {
        // The fixtures directory next to this file, wherever the crate root is.
        let here = std::path::Path::new(file!());
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = manifest
            .ancestors()
            .map(|a| a.join(here).with_file_name("fixtures"))
            .find(|d| d.is_dir())
            .expect("fixtures/ next to leak.rs");
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
        }
    }

    #[test]
    fn fast_leaks_fire_at_their_first_eligible_gc() {
        // Trend fires at the first GC that is at least minDurationMs after the
        // first GC with at least minGcs GCs in between, measuring growth from
        // the first GC's base. Most runs are in time for 30 s; the others have
        // no full GC between ~10 s and 30 s (V8 grew the heap ~4x per GC).
        let cfg = LeakConfig::default();
        let (mut runs, mut in_30s) = (0, 0);
        for (name, text) in FIXTURES.iter().filter(|(n, _)| kind(n) == "fast-leak") {
            let v = load(text);
            let (t0, b0) = v[0];
            let e = (2..v.len())
                .find(|&k| v[k].0 - t0 >= cfg.min_duration_ms)
                .unwrap_or_else(|| panic!("{name}: run too short"));
            let r = feed(cfg.clone(), &v);
            assert!(!r.is_empty(), "{name}: never fired");
            let r0 = &r[0];
            assert_eq!(r0.end_ms, EPOCH + v[e].0, "{name}: fired late");
            assert_eq!(r0.start_ms, EPOCH + t0, "{name}: start");
            assert_eq!(r0.growth, v[e].1 - b0, "{name}: growth");
            assert_eq!(r0.gcs as usize, e, "{name}: gcs");
            assert_sane(r0);
            runs += 1;
            if v[e].0 <= 30_000.0 {
                in_30s += 1;
            }
        }
        assert!(runs >= 40, "{runs} fast-leak fixtures");
        // Recorded: 34 of 40 runs have an eligible GC within 30 s.
        assert!(in_30s * 100 >= runs * 75, "{in_30s}/{runs} within 30 s");
    }

    #[test]
    fn slow_leaks_fire_within_a_minute() {
        for (name, text) in FIXTURES.iter().filter(|(n, _)| kind(n) == "slow-leak") {
            let v = load(text);
            let r = feed(LeakConfig::default(), &v);
            assert!(!r.is_empty(), "{name}: never fired");
            assert!(
                r[0].end_ms - EPOCH <= 60_000.0,
                "{name}: first report at {}",
                r[0].end_ms - EPOCH
            );
            assert_eq!(
                r[0].start_ms,
                EPOCH + v[0].0,
                "{name}: growth is measured from the first base"
            );
            for x in &r {
                assert_sane(x);
            }
        }
    }

    #[test]
    fn non_leaks_never_fire() {
        let mut n = 0;
        for (name, text) in FIXTURES.iter().filter(|(n, _)| kind(n) == "no-leak") {
            let r = feed(LeakConfig::default(), &load(text));
            assert!(r.is_empty(), "{name}: false report {:?}", r[0]);
            n += 1;
        }
        assert!(n >= 80, "{n} no-leak fixtures");
    }

    #[test]
    fn trend_beats_classic_within_30s() {
        // Fast-leak runs reported within 30 s of process start, by rule.
        let within = |cfg: &LeakConfig| {
            FIXTURES
                .iter()
                .filter(|(n, _)| kind(n) == "fast-leak")
                .filter(|(_, text)| {
                    feed(cfg.clone(), &load(text))
                        .first()
                        .is_some_and(|r| r.end_ms - EPOCH <= 30_000.0)
                })
                .count()
        };
        let (by_trend, by_classic) = (within(&LeakConfig::default()), within(&classic()));
        assert!(
            by_trend >= by_classic + 10,
            "trend {by_trend}, classic {by_classic}"
        );
        // Classic's other defect: it fires on churn and sawtooth runs.
        let classic_false = FIXTURES
            .iter()
            .filter(|(n, _)| kind(n) == "no-leak")
            .filter(|(_, text)| !feed(classic(), &load(text)).is_empty())
            .count();
        assert!(classic_false >= 1, "classic false fires: {classic_false}");
    }

    #[test]
    fn classic_on_a_recorded_listener_leak() {
        // leak-listeners-n20-1: 13 full GCs, all growing. Classic fires at the
        // 6th GC (5 growths after the first) and again 5 growths later.
        let (_, text) = FIXTURES
            .iter()
            .find(|(n, _)| *n == "leak-listeners-n20-1")
            .unwrap();
        let v = load(text);
        let r = feed(classic(), &v);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].start_ms, EPOCH + v[0].0);
        assert_eq!(r[0].end_ms, EPOCH + v[5].0);
        assert_eq!(r[0].growth, v[5].1 - v[0].1);
        assert_eq!(r[1].start_ms, EPOCH + v[5].0);
        assert_eq!(r[1].end_ms, EPOCH + v[10].0);
        assert!(
            r[0].reason
                .starts_with("heap growth over 5 consecutive GCs ("),
            "{}",
            r[0].reason
        );
    }

    // ---- configuration --------------------------------------------------

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = LeakConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.rule, LeakRule::Trend);
        assert_eq!(c.min_duration_ms, 12_000.0);
        assert_eq!(c.min_gcs, 2);
        assert_eq!(c.min_growth_bytes, 4 * MB);
        assert_eq!(c.min_growth_percent, 50.0);
        assert_eq!(c.max_deviation, 0.15);
        assert_eq!(c.max_dip, 0.15);
        assert_eq!(c.window_ms, 1_800_000.0);
        assert_eq!(c.classic_streak, 5);
    }

    #[test]
    fn validate_names_the_bad_key() {
        let d = LeakConfig::default;
        let cases: Vec<(LeakConfig, &str)> = vec![
            (
                LeakConfig {
                    min_duration_ms: -1.0,
                    ..d()
                },
                "minDurationMs",
            ),
            (
                LeakConfig {
                    min_duration_ms: f64::NAN,
                    ..d()
                },
                "minDurationMs",
            ),
            (
                LeakConfig {
                    min_duration_ms: 86_400_001.0,
                    ..d()
                },
                "minDurationMs",
            ),
            (LeakConfig { min_gcs: 1, ..d() }, "minGcs"),
            (
                LeakConfig {
                    min_gcs: 1001,
                    ..d()
                },
                "minGcs",
            ),
            (
                LeakConfig {
                    min_growth_percent: f64::INFINITY,
                    ..d()
                },
                "minGrowthPercent",
            ),
            (
                LeakConfig {
                    min_growth_percent: -0.5,
                    ..d()
                },
                "minGrowthPercent",
            ),
            (
                LeakConfig {
                    max_deviation: 1.5,
                    ..d()
                },
                "maxDeviation",
            ),
            (
                LeakConfig {
                    max_deviation: -0.1,
                    ..d()
                },
                "maxDeviation",
            ),
            (
                LeakConfig {
                    max_dip: f64::NAN,
                    ..d()
                },
                "maxDip",
            ),
            (
                LeakConfig {
                    window_ms: 999.0,
                    ..d()
                },
                "windowMs",
            ),
            (
                LeakConfig {
                    window_ms: 5_000.0,
                    ..d()
                },
                "windowMs",
            ), // below minDurationMs
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
            assert_eq!(err.0, key);
            assert!(err.1.starts_with(key), "{}", err.1);
        }
        let edges = LeakConfig {
            min_duration_ms: 0.0,
            min_gcs: 1000,
            min_growth_bytes: u64::MAX,
            min_growth_percent: 10_000.0,
            max_deviation: 1.0,
            max_dip: 1.0,
            window_ms: 604_800_000.0,
            classic_streak: 1,
            ..d()
        };
        assert_eq!(edges.validate(), Ok(()));
    }

    #[test]
    fn invalid_config_is_clamped_not_a_panic() {
        let cfg = LeakConfig {
            min_duration_ms: f64::NAN,
            min_gcs: 0,
            min_growth_percent: f64::NEG_INFINITY,
            max_deviation: f64::NAN,
            max_dip: -3.0,
            window_ms: f64::INFINITY,
            classic_streak: 0,
            ..LeakConfig::default()
        };
        let c = cfg.clone().clamped();
        assert_eq!(c.min_duration_ms, 12_000.0);
        assert_eq!(c.min_gcs, 2);
        assert_eq!(c.min_growth_percent, 0.0);
        assert_eq!(c.max_deviation, 0.15);
        assert_eq!(c.max_dip, 0.0);
        assert_eq!(c.window_ms, 604_800_000.0);
        assert_eq!(c.classic_streak, 1);
        let mut d = LeakDetector::new(cfg);
        for i in 0..100u64 {
            let _ = d.observe(i as f64 * 1000.0, i * MB);
        }
    }

    // ---- classic --------------------------------------------------------

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
        // Within one second: a real (large) rate, not a division by zero.
        let seq: Vec<(f64, u64)> = (0..6).map(|i| (i as f64 * 100.0, (10 + i) * MB)).collect();
        let r = feed(classic(), &seq);
        assert_eq!(
            r[0].reason,
            "heap growth over 5 consecutive GCs (0.5s) - 36000.00 mb/hr"
        );
    }

    // ---- trend, synthetic -----------------------------------------------

    /// A leak of `rate` bytes/s from `base`, one GC every `every_ms`, with
    /// up to `noise` bytes of in-flight garbage on top of each base.
    fn leak(
        base: u64,
        rate: u64,
        every_ms: u64,
        until_ms: u64,
        noise: u64,
        seed: u64,
    ) -> Vec<(f64, u64)> {
        let mut rng = Lcg(seed);
        (0..=until_ms / every_ms)
            .map(|i| {
                let t = i * every_ms;
                (t as f64, base + rate * t / 1000 + rng.below(noise + 1))
            })
            .collect()
    }

    #[test]
    fn trend_reports_a_steady_leak_with_honest_figures() {
        // 1 MiB/s from 50 MiB, a GC every 2 s: growth reaches 50% (25 MiB) at 26 s.
        let seq = leak(50 * MB, MB, 2000, 120_000, 0, 1);
        let r = feed(LeakConfig::default(), &seq);
        let r0 = &r[0];
        assert_eq!((r0.start_ms - EPOCH, r0.end_ms - EPOCH), (0.0, 26_000.0));
        assert_eq!(r0.growth, 26 * MB);
        assert_eq!(r0.gcs, 13);
        assert_eq!(r0.reason, "heap growth over 13 GCs (26s) - 3600.00 mb/hr");
        // Re-armed at the reporting GC: the next report starts where this ended.
        assert_eq!(r[1].start_ms, r0.end_ms);
        assert!(r[1].end_ms - r[1].start_ms >= 12_000.0);
    }

    #[test]
    fn trend_needs_the_minimum_duration_and_gcs() {
        // A 10x rise over 11.9 s with many GCs is not enough time.
        let seq = leak(10 * MB, 8 * MB, 500, 11_900, 0, 1);
        assert!(feed(LeakConfig::default(), &seq).is_empty());
        // Two GCs 12 s apart: only one GC after the start.
        assert!(feed(
            LeakConfig::default(),
            &[(0.0, 10 * MB), (12_000.0, 200 * MB)]
        )
        .is_empty());
        // Three: fires.
        let r = feed(
            LeakConfig::default(),
            &[(0.0, 10 * MB), (4_000.0, 40 * MB), (12_000.0, 100 * MB)],
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].growth, 90 * MB);
    }

    #[test]
    fn trend_rejects_growth_that_stopped_or_jumped() {
        // Rose fast, then flat for the second half: a cache that filled.
        let filled = [
            (0.0, 10 * MB),
            (1_000.0, 12 * MB),
            (6_000.0, 40 * MB),
            (13_000.0, 41 * MB),
        ];
        assert!(feed(LeakConfig::default(), &filled).is_empty());
        // Flat, then one jump at the end: a burst, not a trend.
        let jumped = [
            (0.0, 10 * MB),
            (6_000.0, 10 * MB + 1),
            (7_000.0, 10 * MB + 2),
            (13_000.0, 40 * MB),
        ];
        assert!(feed(LeakConfig::default(), &jumped).is_empty());
        // The same points rising steadily do fire.
        let steady = [
            (0.0, 10 * MB),
            (1_000.0, 12 * MB),
            (6_000.0, 24 * MB),
            (13_000.0, 40 * MB),
        ];
        assert_eq!(feed(LeakConfig::default(), &steady).len(), 1);
    }

    #[test]
    fn trend_honours_min_growth_bytes_and_min_gcs() {
        // A 2 MiB heap growing 1.5 MiB in 15 s (75%): below the 4 MiB minimum.
        let small = leak(2 * MB, MB / 10, 3000, 15_000, 0, 1);
        assert!(feed(LeakConfig::default(), &small).is_empty());
        let r = feed(
            LeakConfig {
                min_growth_bytes: MB,
                ..LeakConfig::default()
            },
            &small,
        );
        assert_eq!(r.len(), 1);
        // Three GCs after the start are enough by default, not with minGcs = 5.
        let few = [
            (0.0, 10 * MB),
            (4_000.0, 20 * MB),
            (8_000.0, 30 * MB),
            (12_000.0, 40 * MB),
        ];
        assert_eq!(feed(LeakConfig::default(), &few).len(), 1);
        assert!(feed(
            LeakConfig {
                min_gcs: 5,
                ..LeakConfig::default()
            },
            &few
        )
        .is_empty());
        let more = leak(10 * MB, 2 * MB + MB / 2, 4000, 20_000, 0, 1);
        assert_eq!(
            feed(
                LeakConfig {
                    min_gcs: 5,
                    ..LeakConfig::default()
                },
                &more
            )[0]
            .gcs,
            5
        );
    }

    #[test]
    fn trend_ignores_a_bounded_cache_filling_then_churning() {
        // Fills 30 MiB in 4 s (GCs every 0.7 s), then a plateau with +-1 MiB
        // of noise for an hour, GCs every 0.5-10 s.
        let mut rng = Lcg(7);
        let mut seq = vec![];
        let mut t = 0u64;
        while t < 3_600_000 {
            let fill = (t.min(4000) * 30 * MB) / 4000;
            seq.push((t as f64, 8 * MB + fill + rng.below(2 * MB)));
            t += if t < 4000 { 700 } else { 500 + rng.below(9500) };
        }
        assert!(feed(LeakConfig::default(), &seq).is_empty());
    }

    #[test]
    fn trend_ignores_a_sawtooth() {
        // 5 MiB/s for 10 s, then cleared, for an hour; GC every 1.3 s.
        let seq: Vec<(f64, u64)> = (0..2800u64)
            .map(|i| {
                (
                    i as f64 * 1300.0,
                    6 * MB + ((i * 1300) % 10_000) * 5 * MB / 1000,
                )
            })
            .collect();
        assert!(feed(LeakConfig::default(), &seq).is_empty());
        // Sampled every 13.7 s the phase walks up the ramp (0, 3.7, 7.4 s):
        // until the first drop that is indistinguishable from a leak. Once a
        // drop has been seen, the sawtooth is never reported.
        let seq: Vec<(f64, u64)> = (0..400u64)
            .map(|i| {
                (
                    i as f64 * 13_700.0,
                    6 * MB + ((i * 13_700) % 10_000) * 5 * MB / 1000,
                )
            })
            .collect();
        let first_drop = seq.windows(2).position(|w| w[1].1 < w[0].1).unwrap() + 1;
        for r in feed(LeakConfig::default(), &seq) {
            assert!(r.end_ms - EPOCH < seq[first_drop].0, "{r:?}");
        }
    }

    #[test]
    fn trend_ignores_bursts_on_a_flat_heap() {
        // Flat 40 MiB; a third of GCs land while a 0-60 MiB temporary table is alive.
        let mut rng = Lcg(3);
        let seq: Vec<(f64, u64)> = (0..2000u64)
            .map(|i| {
                let spike = if rng.below(3) == 0 {
                    rng.below(60 * MB)
                } else {
                    0
                };
                (i as f64 * 3000.0, 40 * MB + rng.below(MB) + spike)
            })
            .collect();
        assert!(feed(LeakConfig::default(), &seq).is_empty());
    }

    #[test]
    fn trend_finds_a_leak_under_bursts() {
        // 2 MiB/s on 100 MiB with spikes of up to 30 MiB at some GCs: found
        // once the rise dwarfs the spikes.
        let mut rng = Lcg(11);
        let seq: Vec<(f64, u64)> = (0..200u64)
            .map(|i| {
                let t = i * 3000;
                let spike = if rng.below(4) == 0 {
                    rng.below(30 * MB)
                } else {
                    0
                };
                (t as f64, 100 * MB + 2 * MB * t / 1000 + spike)
            })
            .collect();
        let r = feed(LeakConfig::default(), &seq);
        assert!(!r.is_empty());
        assert!(r[0].end_ms - EPOCH <= 400_000.0, "{:?}", r[0]);
        assert!(r[0].growth >= 50 * MB);
    }

    #[test]
    fn dense_gcs_keep_memory_bounded_and_still_detect() {
        // A GC every 20 ms for 10 minutes on a flat heap: bounded, silent.
        let mut d = LeakDetector::new(LeakConfig::default());
        let mut rng = Lcg(5);
        let mut lowest = u64::MAX;
        for i in 0..30_000u64 {
            let (t, b) = (EPOCH + i as f64 * 20.0, 30 * MB + rng.below(MB));
            lowest = lowest.min(b);
            assert!(d.observe(t, b).is_none());
            assert!(d.samples.len() <= MAX_SAMPLES);
            // The newest GC is kept as is; merging keeps the floor and the GC count.
            assert_eq!(
                d.samples.last().map(|x| (x.t, x.base, x.n)),
                Some((t, b, 1))
            );
            assert_eq!(d.samples.iter().map(|x| x.base).min(), Some(lowest));
            assert_eq!(d.samples.iter().map(|x| u64::from(x.n)).sum::<u64>(), i + 1);
        }
        // Then a 3 MiB/s leak, still a GC every 20 ms: reported within a minute.
        let t0 = 30_000.0 * 20.0;
        let mut hit = None;
        for i in 0..10_000u64 {
            let t = t0 + i as f64 * 20.0;
            if let Some(r) = d.observe(EPOCH + t, 31 * MB + 3 * MB * i / 50) {
                hit = Some((t - t0, r));
                break;
            }
            assert!(d.samples.len() <= MAX_SAMPLES);
        }
        let (after, r) = hit.expect("leak after a long flat period");
        assert!(after <= 60_000.0, "{after} {r:?}");
        assert!(r.gcs as usize >= 500, "{r:?}");
    }

    #[test]
    fn window_forgets_old_gcs() {
        let cfg = LeakConfig {
            window_ms: 60_000.0,
            ..LeakConfig::default()
        };
        let mut d = LeakDetector::new(cfg);
        for i in 0..100u64 {
            let _ = d.observe(i as f64 * 10_000.0, 10 * MB);
        }
        assert!(d.samples.len() <= 7, "{}", d.samples.len());
        assert!(d.samples.iter().all(|s| s.t >= 990_000.0 - 60_000.0));
    }

    #[test]
    fn reset_forgets_everything() {
        let mut d = LeakDetector::new(LeakConfig::default());
        assert!(d.observe(0.0, 10 * MB).is_none());
        assert!(d.observe(4_000.0, 40 * MB).is_none());
        d.reset();
        assert!(
            d.observe(12_000.0, 100 * MB).is_none(),
            "the start was forgotten"
        );
        let mut c = LeakDetector::new(classic());
        for i in 0..5u64 {
            assert!(c.observe(i as f64, i * MB).is_none());
        }
        c.reset();
        assert!(c.observe(5.0, 5 * MB).is_none(), "the streak was forgotten");
    }

    // ---- robustness -----------------------------------------------------

    #[test]
    fn clock_steps() {
        // Back by up to 1 s: treated as the same instant (no negative spans).
        let mut d = LeakDetector::new(classic());
        let mut last = None;
        for (i, t) in [10_000.0, 9_500.0, 9_200.0, 9_900.0, 9_100.0, 9_000.0]
            .iter()
            .enumerate()
        {
            last = d.observe(*t, (i as u64 + 1) * MB).or(last);
        }
        let r = last.expect("5 growths");
        assert_eq!((r.start_ms, r.end_ms), (10_000.0, 10_000.0));
        // Back by more than 1 s: start afresh.
        let mut d = LeakDetector::new(LeakConfig::default());
        assert!(d.observe(100_000.0, 10 * MB).is_none());
        assert!(d.observe(104_000.0, 40 * MB).is_none());
        assert!(d.observe(50_000.0, 50 * MB).is_none());
        assert_eq!(d.samples.len(), 1);
        // Non-finite times are ignored.
        assert!(d.observe(f64::NAN, 0).is_none());
        assert!(d.observe(f64::INFINITY, u64::MAX).is_none());
        assert!(d.observe(f64::NEG_INFINITY, 1).is_none());
        assert_eq!(d.samples.len(), 1);
    }

    #[test]
    fn no_panic_on_extreme_input() {
        let mut rng = Lcg(99);
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
        for rule in [LeakRule::Trend, LeakRule::Classic] {
            for cfg in [
                LeakConfig {
                    rule,
                    ..LeakConfig::default()
                },
                LeakConfig {
                    rule,
                    min_duration_ms: 0.0,
                    min_growth_bytes: 0,
                    min_growth_percent: 0.0,
                    max_deviation: 1.0,
                    max_dip: 1.0,
                    classic_streak: 1,
                    ..LeakConfig::default()
                },
            ] {
                let mut d = LeakDetector::new(cfg);
                let mut t = 0.0;
                for i in 0..20_000u64 {
                    let base = match rng.below(3) {
                        0 => picks[rng.below(picks.len() as u64) as usize],
                        1 => rng.next() << rng.below(31),
                        _ => i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    };
                    t = match rng.below(4) {
                        0 => times[rng.below(times.len() as u64) as usize],
                        1 => t,
                        _ => t + rng.below(5000) as f64,
                    };
                    if let Some(r) = d.observe(t, base) {
                        assert!(r.end_ms >= r.start_ms, "{r:?}");
                        assert!(
                            !r.reason.contains("NaN") && !r.reason.contains("inf"),
                            "{r:?}"
                        );
                    }
                    assert!(d.samples.len() <= MAX_SAMPLES);
                }
            }
        }
        // A monotone leak at the top of the u64 range.
        let seq: Vec<(f64, u64)> = (0..20u64)
            .map(|i| (i as f64 * 5_000.0, u64::MAX / 4 + i * (u64::MAX / 32)))
            .collect();
        let r = feed(LeakConfig::default(), &seq);
        assert!(!r.is_empty());
        assert_sane(&r[0]);
        // Zero bases throughout: nothing grows.
        let seq: Vec<(f64, u64)> = (0..50u64).map(|i| (i as f64 * 1000.0, 0)).collect();
        assert!(feed(LeakConfig::default(), &seq).is_empty());
        assert!(feed(classic(), &seq).is_empty());
    }

    #[test]
    fn durations_read_like_memwatch() {
        assert_eq!(Dur(400.0).to_string(), "0.4s");
        assert_eq!(Dur(9_940.0).to_string(), "9.9s");
        assert_eq!(Dur(20_000.0).to_string(), "20s");
        assert_eq!(Dur(59_600.0).to_string(), "1m 0s");
        assert_eq!(Dur(245_000.0).to_string(), "4m 5s");
        assert_eq!(Dur(7_380_000.0).to_string(), "2h 3m");
        assert_eq!(Dur(-5.0).to_string(), "0.0s");
        assert_eq!(Dur(f64::NAN).to_string(), "0.0s");
        assert_eq!(Rate(MB, 3_600_000.0).to_string(), "1.00 mb/hr");
        assert_eq!(Rate(MB, 0.0).to_string(), "1.00 mb at once");
        assert!(Rate(u64::MAX, 1.0).to_string().ends_with(" mb/hr"));
    }
}
