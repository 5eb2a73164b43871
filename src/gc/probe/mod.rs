//! When to ask V8 for an extra full GC so the leak detector gets samples.
//!
//! Modern V8 runs full GCs rarely (seconds to many minutes apart), and only a
//! full GC shows what is really live. While a `leak` listener is attached,
//! the caller asks [`Prober::due`] on a timer (twice a second) with the used
//! heap and whether the detector currently suspects growth; when it answers
//! true the caller starts a full GC (a moderate memory-pressure notification
//! on the V8 backend: incremental, mostly concurrent marking). Pure logic:
//! the caller supplies times and sizes.
//!
//! The policy:
//! - Never sooner than `min_interval_ms` after a full GC or a probe.
//! - The growth the prober looks at is the *settled* used heap (the lowest
//!   of the last 8 readings since the last full GC, 4 s at the JS timer's
//!   pace; 4 readings while growth is suspected) above the last base:
//!   that takes out most of the young generation's sawtooth, which on a
//!   busy service is tens of MB that scavenges free anyway.
//! - Flat heap (nothing suspected): probe once `interval` has passed and the
//!   settled heap grew by `min_growth_bytes` (an idle heap is never probed);
//!   each such probe doubles `interval`, up to `max_interval_ms`. A settled
//!   heap that jumped by `jump_ratio` of the base is probed at once (a fast
//!   leak starting on a heap that has been flat for hours).
//! - Flat but *rising* (the rate's lower confidence bound over the
//!   detector's window is already at a reportable rate, though the growth is
//!   not yet steady or long enough to suspect): no back-off; `interval` is
//!   held at `suspect_interval_ms` at most, so the bases that will confirm
//!   or clear the rise come evenly spaced. The hold lasts [`RISING_HOLD_MS`]
//!   (10 min) per rise: a leak is suspected well within it (a 2 MB/min leak
//!   on 300 MB: under 2 minutes), and a heap that keeps rising without ever
//!   looking steady (growth in steps) is not probed every 10 s for hours. Without this, a slow leak that
//!   starts with the process (a 2 MB/min leak on a 300 MB heap, whose first
//!   bases differ by less than their scatter) was sampled at 4, 8, 16, ...,
//!   128 s and reported late or not at all.
//! - The first [`WARMUP_GCS`] (10) full GCs: the back-off stops at twice
//!   `suspect_interval_ms` (20 s), so the detector gets the 10 evenly spaced
//!   bases its rule needs within a few minutes of the listener being
//!   attached. A leak that starts with the process can hide its first minute
//!   in the scatter (one real 300 MB service: a base 3 MB high at 4 s) and
//!   the detector cannot tell it is rising before the back-off has passed
//!   a minute.
//! - Growth suspected: at least one full GC per `suspect_interval_ms`, and
//!   sooner once the settled heap grew by `growth_ratio` of the base (a fast
//!   leak is sampled every `min_interval_ms`).
//! - A leak reported and continuing: at least one full GC per
//!   `leak_interval_ms` (its figures only need refreshing), sooner on the
//!   same growth.
//! - No base yet: one probe establishes it.

#![forbid(unsafe_code)]

use super::leak::{LeakState, LeakStatus};
use crate::text::js_number as num;

/// Probe settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    /// `probe`: off, the detector sees only the full GCs V8 runs on its own.
    /// Default true.
    pub enabled: bool,
    /// `probeMinIntervalMs`: shortest time from a full GC or a probe to the
    /// next probe, ms. Default 2,000; 100 to 3,600,000.
    pub min_interval_ms: f64,
    /// `probeMaxIntervalMs`: longest back-off while the heap is flat, ms.
    /// Default 300,000 (5 min); `probeMinIntervalMs` to 86,400,000.
    pub max_interval_ms: f64,
    /// `probeSuspectIntervalMs`: while growth is suspected, at least one
    /// full GC this often, ms. Default 10,000; `probeMinIntervalMs` to
    /// `probeMaxIntervalMs`.
    pub suspect_interval_ms: f64,
    /// While a reported leak continues, at least one full GC this often, ms.
    /// Default 60,000 (at least `suspect_interval_ms`).
    pub leak_interval_ms: f64,
    /// The settled heap must exceed the last base by this many bytes before
    /// a flat heap is probed. Default 256 KiB.
    pub min_growth_bytes: u64,
    /// While growth is suspected: probe as soon as the settled heap grew by
    /// this share of the last base (a fast leak is sampled every
    /// `min_interval_ms`; promotion on a busy heap rarely gets there before
    /// V8's own full GC). Default 0.25.
    pub growth_ratio: f64,
    /// While flat: probe before the back-off ends once the settled heap grew
    /// by this share of the last base (doubled: a fast leak starting on a
    /// heap that has been flat for hours). Default 1.0.
    pub jump_ratio: f64,
}

impl ProbeConfig {
    /// Checks the intervals. On failure returns the option's JS name and a
    /// message fit for a `RangeError` (bounded length).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let ok = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
        if !ok(self.min_interval_ms, 100.0, 3_600_000.0) {
            return Err((
                "probeMinIntervalMs",
                format!(
                    "probeMinIntervalMs must be a number from 100 to 3600000, got {}",
                    num(self.min_interval_ms)
                ),
            ));
        }
        if !ok(self.max_interval_ms, self.min_interval_ms, 86_400_000.0) {
            return Err((
                "probeMaxIntervalMs",
                format!(
                    "probeMaxIntervalMs must be a number from probeMinIntervalMs ({}) to 86400000, got {}",
                    num(self.min_interval_ms),
                    num(self.max_interval_ms)
                ),
            ));
        }
        if !ok(
            self.suspect_interval_ms,
            self.min_interval_ms,
            self.max_interval_ms,
        ) {
            return Err((
                "probeSuspectIntervalMs",
                format!(
                    "probeSuspectIntervalMs must be a number from probeMinIntervalMs ({}) to probeMaxIntervalMs ({}), got {}",
                    num(self.min_interval_ms),
                    num(self.max_interval_ms),
                    num(self.suspect_interval_ms)
                ),
            ));
        }
        Ok(())
    }
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            enabled: true,
            min_interval_ms: 2_000.0,
            max_interval_ms: 300_000.0,
            suspect_interval_ms: 10_000.0,
            leak_interval_ms: 60_000.0,
            min_growth_bytes: 256 << 10,
            growth_ratio: 0.25,
            jump_ratio: 1.0,
        }
    }
}

/// How long one rise of a flat heap holds the probe at the suspect pace, ms.
pub const RISING_HOLD_MS: f64 = 600_000.0;

/// Full GCs the detector must have seen before the flat back-off may pass
/// twice the suspect pace (the points its rate rule needs).
pub const WARMUP_GCS: u64 = 10;

/// Readings of the used heap remembered for the settled value.
const SETTLE_READINGS: usize = 8;

/// Probe scheduling state for one isolate.
#[derive(Debug, Clone)]
pub struct Prober {
    cfg: ProbeConfig,
    /// Time and base of the last full GC seen (any cause).
    last_full: Option<(f64, u64)>,
    /// A probe was started and its GC has not been seen yet.
    pending: bool,
    /// The detector had seen fewer than [`WARMUP_GCS`] at the last `due` call.
    warming: bool,
    /// The detector's state at the last `due` call.
    state: LeakState,
    /// The pace is held for a rising flat heap (see [`RISING_HOLD_MS`]).
    holding: bool,
    /// When the current rise was first seen, ms.
    rising_since: Option<f64>,
    /// Current flat-heap back-off, ms.
    interval_ms: f64,
    last_probe_ms: Option<f64>,
    /// The last readings of the used heap since the last full GC.
    readings: [u64; SETTLE_READINGS],
    count: usize,
}

impl Default for Prober {
    fn default() -> Self {
        Prober::new(ProbeConfig::default())
    }
}

impl Prober {
    /// A prober with `cfg` (intervals clamped into range, never a panic).
    pub fn new(cfg: ProbeConfig) -> Self {
        let mut cfg = cfg;
        let fix = |v: f64, lo: f64, hi: f64| if v.is_nan() { lo } else { v.clamp(lo, hi) };
        cfg.min_interval_ms = fix(cfg.min_interval_ms, 100.0, 3_600_000.0);
        cfg.max_interval_ms = fix(cfg.max_interval_ms, cfg.min_interval_ms, 86_400_000.0);
        cfg.suspect_interval_ms = fix(
            cfg.suspect_interval_ms,
            cfg.min_interval_ms,
            cfg.max_interval_ms,
        );
        cfg.leak_interval_ms = fix(cfg.leak_interval_ms, cfg.suspect_interval_ms, 86_400_000.0);
        Prober {
            cfg,
            last_full: None,
            pending: false,
            state: LeakState::Flat,
            holding: false,
            warming: true,
            rising_since: None,
            interval_ms: cfg.min_interval_ms,
            last_probe_ms: None,
            readings: [0; SETTLE_READINGS],
            count: 0,
        }
    }

    /// Records a full GC (natural, probed or forced) with its base. A GC
    /// with a non-finite time only ends a pending probe.
    pub fn full_gc(&mut self, t_ms: f64, base: u64) {
        if !t_ms.is_finite() {
            self.pending = false;
            return;
        }
        if self.pending {
            self.pending = false;
            // A probe on a flat heap: wait longer next time (no longer than
            // the suspect pace while a rise holds it).
            if self.state == LeakState::Flat {
                let cap = if self.holding {
                    self.cfg.suspect_interval_ms
                } else if self.warming {
                    (2.0 * self.cfg.suspect_interval_ms).min(self.cfg.max_interval_ms)
                } else {
                    self.cfg.max_interval_ms
                };
                self.interval_ms = (self.interval_ms * 2.0).min(cap);
            }
        }
        self.last_full = Some((t_ms, base));
        self.count = 0;
    }

    /// Whether to probe now, given the current used heap and the leak
    /// detector's status (its state, whether it sees the heap rising, how
    /// many full GCs it has seen). Marks the probe as started when it answers
    /// true.
    pub fn due(&mut self, now_ms: f64, used_now: u64, detector: &LeakStatus) -> bool {
        if !self.cfg.enabled || !now_ms.is_finite() {
            return false;
        }
        let (state, rising) = (detector.state, detector.rising);
        self.warming = detector.gcs < WARMUP_GCS;
        if state != self.state {
            // Back to flat: restart the back-off from the suspect pace.
            self.interval_ms = self.cfg.suspect_interval_ms;
            self.state = state;
        }
        let rising = rising && state == LeakState::Flat;
        if !rising {
            self.rising_since = None;
        }
        let since = *self.rising_since.get_or_insert(now_ms);
        self.holding = rising && now_ms - since <= RISING_HOLD_MS;
        if self.holding {
            // Keep the pace while the rise is confirmed or cleared.
            self.interval_ms = self.interval_ms.min(self.cfg.suspect_interval_ms);
        }
        self.readings[self.count % SETTLE_READINGS] = used_now;
        self.count += 1;
        let Some((last_t, base)) = self.last_full else {
            // No base yet: one probe establishes it.
            return self.start(now_ms);
        };
        let since = now_ms - last_t.max(self.last_probe_ms.unwrap_or(f64::MIN));
        if since.is_nan() || since < self.cfg.min_interval_ms {
            return false;
        }
        // While growth is suspected, settle over half as many readings: the
        // growth threshold is then a quarter of the heap, more than the young
        // generation on any heap whose full GC is costly.
        let window = if state == LeakState::Flat {
            SETTLE_READINGS
        } else {
            SETTLE_READINGS / 2
        };
        let settled = (0..self.count.min(window))
            .map(|back| self.readings[(self.count - 1 - back) % SETTLE_READINGS])
            .min()
            .unwrap_or(used_now);
        let grown = settled.saturating_sub(base) as f64;
        let share = |r: f64| (base as f64 * r).max(self.cfg.min_growth_bytes as f64);
        let due = match state {
            LeakState::Flat => {
                (since >= self.interval_ms && grown >= self.cfg.min_growth_bytes as f64)
                    || grown >= share(self.cfg.jump_ratio)
            }
            LeakState::Suspected => {
                since >= self.cfg.suspect_interval_ms || grown >= share(self.cfg.growth_ratio)
            }
            LeakState::Leaking => {
                since >= self.cfg.leak_interval_ms || grown >= share(self.cfg.growth_ratio)
            }
        };
        due && self.start(now_ms)
    }

    fn start(&mut self, now_ms: f64) -> bool {
        if self
            .last_probe_ms
            .is_some_and(|t| now_ms - t < self.cfg.min_interval_ms)
        {
            return false;
        }
        self.last_probe_ms = Some(now_ms);
        self.pending = true;
        true
    }

    /// The settings in use.
    pub fn config(&self) -> ProbeConfig {
        self.cfg
    }

    /// Current flat-heap back-off interval, ms.
    pub fn interval_ms(&self) -> f64 {
        self.interval_ms
    }
}

#[cfg(test)]
mod tests;
