//! Leak detector (interim: the classic rule, fixed). Replaced by the trend rule.

/// Which rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakRule {
    Classic,
}

/// Detector settings.
#[derive(Debug, Clone)]
pub struct LeakConfig {
    pub rule: LeakRule,
}

impl Default for LeakConfig {
    fn default() -> Self {
        LeakConfig {
            rule: LeakRule::Classic,
        }
    }
}

/// A detected leak.
#[derive(Debug, Clone)]
pub struct LeakReport {
    pub start_ms: f64,
    pub end_ms: f64,
    pub growth: u64,
    pub gcs: u32,
    pub reason: String,
}

/// Feeds on full-GC bases.
pub struct LeakDetector {
    prev: Option<(f64, u64)>,
    start: Option<(f64, u64)>,
    streak: u32,
}

impl LeakDetector {
    pub fn new(_cfg: LeakConfig) -> Self {
        LeakDetector {
            prev: None,
            start: None,
            streak: 0,
        }
    }

    pub fn observe(&mut self, t_ms: f64, base: u64) -> Option<LeakReport> {
        let prev = self.prev.replace((t_ms, base));
        let prev = prev?;
        if base <= prev.1 {
            self.streak = 0;
            self.start = None;
            return None;
        }
        self.start.get_or_insert(prev);
        self.streak += 1;
        if self.streak < 5 {
            return None;
        }
        let (t0, b0) = self.start.take()?;
        self.streak = 0;
        Some(LeakReport {
            start_ms: t0,
            end_ms: t_ms,
            growth: base - b0,
            gcs: 5,
            reason: String::from("heap growth over 5 consecutive GCs"),
        })
    }
}
