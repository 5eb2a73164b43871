//! When to ask V8 for an extra full GC so the leak detector gets samples.
//!
//! Modern V8 runs full GCs rarely while a heap grows (seconds to minutes
//! apart), and only a full GC shows what is really live. While a `leak`
//! listener is attached, memwatch-rs checks about once a second and, when the
//! used heap has grown well past the last base and no full GC came for a
//! while, asks V8 to start incremental marking (a moderate memory-pressure
//! notification: mostly concurrent, ends in a full GC). After a probe whose
//! base did not grow, the interval doubles (up to `max_interval_ms`); a probe
//! that shows growth resets it, so a growing heap is sampled often and a flat
//! one almost never. Pure logic: the caller supplies times and sizes.

/// Probe settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    /// Off: the detector sees only the full GCs V8 runs on its own.
    pub enabled: bool,
    /// Shortest time between a full GC and the next probe, ms.
    pub min_interval_ms: f64,
    /// Longest back-off between probes while the base stays flat, ms.
    pub max_interval_ms: f64,
    /// The used heap must exceed the last base by at least this many bytes...
    pub min_growth_bytes: u64,
    /// ...and by at least this fraction of the last base.
    pub min_growth_ratio: f64,
}

impl ProbeConfig {
    /// Checks the intervals. On failure returns the option's JS name and a
    /// message fit for a `RangeError`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let ok = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
        if !ok(self.min_interval_ms, 100.0, 3_600_000.0) {
            return Err((
                "probeMinIntervalMs",
                format!(
                    "probeMinIntervalMs must be a number from 100 to 3600000, got {}",
                    self.min_interval_ms
                ),
            ));
        }
        if !ok(self.max_interval_ms, self.min_interval_ms, 86_400_000.0) {
            return Err((
                "probeMaxIntervalMs",
                format!(
                    "probeMaxIntervalMs must be a number from probeMinIntervalMs ({}) to 86400000, got {}",
                    self.min_interval_ms, self.max_interval_ms
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
            max_interval_ms: 60_000.0,
            min_growth_bytes: 1 << 20,
            min_growth_ratio: 0.05,
        }
    }
}

/// Probe scheduling state for one isolate.
#[derive(Debug, Clone, Default)]
pub struct Prober {
    cfg: ProbeConfig,
    /// Time and base of the last full GC seen (any cause).
    last_full: Option<(f64, u64)>,
    /// Base before the last probe, to judge its outcome.
    pending: Option<u64>,
    interval_ms: f64,
    last_probe_ms: Option<f64>,
}

impl Prober {
    /// A prober with `cfg`.
    pub fn new(cfg: ProbeConfig) -> Self {
        Prober {
            cfg,
            interval_ms: cfg.min_interval_ms,
            ..Default::default()
        }
    }

    /// Records a full GC (natural, probed or forced) with its base.
    pub fn full_gc(&mut self, t_ms: f64, base: u64) {
        if let Some(before) = self.pending.take() {
            let grew = base as f64 > before as f64 * (1.0 + self.cfg.min_growth_ratio / 2.0);
            self.interval_ms = if grew {
                self.cfg.min_interval_ms
            } else {
                (self.interval_ms * 2.0).min(self.cfg.max_interval_ms)
            };
        }
        self.last_full = Some((t_ms, base));
    }

    /// Whether to probe now, given the current used heap. Marks the probe as
    /// started when it answers true.
    pub fn due(&mut self, now_ms: f64, used_now: u64) -> bool {
        if !self.cfg.enabled {
            return false;
        }
        let Some((last_t, base)) = self.last_full else {
            // No base yet: one probe establishes it.
            return self.start(now_ms, 0);
        };
        let waited = now_ms - last_t.max(self.last_probe_ms.unwrap_or(f64::MIN));
        // NaN times (a clock gone wrong) never probe.
        if waited.is_nan() || waited < self.interval_ms {
            return false;
        }
        let need = (base as f64 * self.cfg.min_growth_ratio).max(self.cfg.min_growth_bytes as f64);
        if (used_now as f64) < base as f64 + need {
            return false;
        }
        self.start(now_ms, base)
    }

    fn start(&mut self, now_ms: f64, base: u64) -> bool {
        if self
            .last_probe_ms
            .is_some_and(|t| now_ms - t < self.cfg.min_interval_ms)
        {
            return false;
        }
        self.last_probe_ms = Some(now_ms);
        self.pending = Some(base);
        true
    }

    /// The settings in use.
    pub fn config(&self) -> ProbeConfig {
        self.cfg
    }

    /// Current back-off interval, ms.
    pub fn interval_ms(&self) -> f64 {
        self.interval_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    #[test]
    fn first_check_probes_once_to_get_a_base() {
        let mut p = Prober::new(ProbeConfig::default());
        assert!(p.due(0.0, 10 * MB));
        assert!(
            !p.due(500.0, 10 * MB),
            "not again before the minimum interval"
        );
    }

    #[test]
    fn waits_for_both_time_and_growth() {
        let mut p = Prober::new(ProbeConfig::default());
        p.full_gc(0.0, 100 * MB);
        assert!(!p.due(1_000.0, 200 * MB), "too soon after a full GC");
        assert!(!p.due(3_000.0, 104 * MB), "grew less than 5%");
        assert!(p.due(3_000.0, 106 * MB));
    }

    #[test]
    fn backs_off_while_the_base_is_flat_and_resets_on_growth() {
        let mut p = Prober::new(ProbeConfig::default());
        p.full_gc(0.0, 100 * MB);
        let mut t = 0.0;
        for expected in [4_000.0, 8_000.0, 16_000.0, 32_000.0, 60_000.0, 60_000.0] {
            t += p.interval_ms();
            assert!(p.due(t, 150 * MB));
            p.full_gc(t + 100.0, 100 * MB); // probe shows the same base
            assert_eq!(p.interval_ms(), expected);
            t += 100.0;
        }
        t += p.interval_ms();
        assert!(p.due(t, 150 * MB));
        p.full_gc(t + 100.0, 120 * MB); // grew: sample fast again
        assert_eq!(p.interval_ms(), 2_000.0);
    }

    #[test]
    fn natural_full_gcs_push_the_next_probe_back() {
        let mut p = Prober::new(ProbeConfig::default());
        p.full_gc(0.0, 100 * MB);
        p.full_gc(1_900.0, 100 * MB);
        assert!(!p.due(2_500.0, 150 * MB));
        assert!(p.due(3_900.0, 150 * MB));
    }

    #[test]
    fn disabled_never_probes() {
        let mut p = Prober::new(ProbeConfig {
            enabled: false,
            ..Default::default()
        });
        assert!(!p.due(0.0, 0));
        p.full_gc(0.0, MB);
        assert!(!p.due(1e9, u64::MAX));
    }
}
