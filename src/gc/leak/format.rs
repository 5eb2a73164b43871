//! Text for `leak` reports, memwatch-style, e.g.
//! `heap growth over 14 GCs (9m 12s) - 118.20 mb/hr, heap limit in ~17h`.
//! Every output has a bounded length, whatever the input (NaN, infinities,
//! absurd magnitudes).

#![forbid(unsafe_code)]

use std::fmt;

const MIB: f64 = 1024.0 * 1024.0;
const HOUR_MS: f64 = 3_600_000.0;

/// A duration in ms, printed like memwatch: `20s`, `4m 5s`, `2h 3m`; below
/// 10 s with one decimal. Negative or non-finite spans print `0.0s`.
pub struct Dur(pub f64);

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

/// A growth of `.0` bytes over `.1` ms, as `x.xx mb/hr` (MiB per hour); when
/// the span is too short to measure (under 1 ms), the growth itself
/// (`x.xx mb at once`). The classic rule's figure.
pub struct Rate(pub u64, pub f64);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1.is_finite() && self.1 >= 1.0 {
            write!(f, "{}", PerHour(self.0 as f64 / (self.1 / HOUR_MS)))
        } else {
            write!(f, "{} at once", Mb(self.0 as f64))
        }
    }
}

/// A size in bytes as `x.xx mb` (MiB), bounded in length.
struct Mb(f64);

impl fmt::Display for Mb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_mib(f, self.0, "mb")
    }
}

/// `bytes` in MiB with two decimals and `unit`; non-finite as 0, huge
/// values in scientific notation so the text stays short.
fn write_mib(f: &mut fmt::Formatter<'_>, bytes: f64, unit: &str) -> fmt::Result {
    let mb = if bytes.is_finite() { bytes / MIB } else { 0.0 };
    if mb.abs() < 1e12 {
        write!(f, "{mb:.2} {unit}")
    } else {
        write!(f, "{mb:.3e} {unit}")
    }
}

/// A rate in bytes per hour as `x.xx mb/hr` (MiB per hour), bounded in length.
pub struct PerHour(pub f64);

impl fmt::Display for PerHour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_mib(f, self.0, "mb/hr")
    }
}

/// A rough time to come, `~40s`, `~12m`, `~17h`, `~9d`; under a second
/// `under 1s`.
pub struct Eta(pub f64);

impl fmt::Display for Eta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = if self.0.is_finite() {
            self.0.max(0.0)
        } else {
            f64::MAX
        };
        let s = ms / 1000.0;
        if s < 1.0 {
            write!(f, "under 1s")
        } else if s < 60.0 {
            write!(f, "~{}s", s.round() as u64)
        } else if s < 3600.0 {
            write!(f, "~{}m", (s / 60.0).round() as u64)
        } else if s < 48.0 * 3600.0 {
            write!(f, "~{}h", (s / 3600.0).round() as u64)
        } else {
            write!(f, "~{}d", (s / 86_400.0).round() as u64) // saturates
        }
    }
}

/// The `reason` of a rate-rule report, e.g.
/// `heap growth over 14 GCs (9m 12s) - 118.20 mb/hr, heap limit in ~17h`. `gcs` counts the full GCs after the one
/// the growth is measured from, `duration_ms` is the span from that GC to the
/// reporting one, `rate` the estimated growth in bytes per hour, and
/// `limit_in_ms` the projected time until the heap limit at that rate (the
/// clause is left out when there is none). At most ~110 characters.
pub fn format_reason(gcs: u32, duration_ms: f64, rate: f64, limit_in_ms: Option<f64>) -> String {
    let mut s = format!(
        "heap growth over {} GCs ({}) - {}",
        gcs,
        Dur(duration_ms),
        PerHour(rate)
    );
    if let Some(ms) = limit_in_ms {
        s.push_str(&format!(", heap limit in {}", Eta(ms)));
    }
    s
}

/// The `reason` of a classic-rule report, exactly as memwatch words it:
/// `heap growth over 5 consecutive GCs (20s) - 11.67 mb/hr`.
pub fn format_classic_reason(gcs: u32, duration_ms: f64, growth: u64) -> String {
    format!(
        "heap growth over {} consecutive GCs ({}) - {}",
        gcs,
        Dur(duration_ms),
        Rate(growth, duration_ms)
    )
}
