//! `memwatch.metrics()`: what the Prometheus and OpenTelemetry exporters
//! read at scrape time, in one call; and the fallback's GC pauses.

use napi::{Env, Result};
use napi_derive::napi;

use super::state;
use crate::payload::{Metrics, PauseKind};

/// The leak detector's status, V8's heap size limit and the GC pause
/// histograms of this thread. `heapSizeLimit` is used when the backend
/// cannot read it (the fallback passes `v8.getHeapStatistics()`'s).
#[napi]
pub fn metrics(env: Env, heap_size_limit: Option<f64>) -> Result<Metrics> {
    let state = state(&env)?;
    let given = heap_size_limit
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v as u64);
    let limit = state.heap_size_limit().or(given).unwrap_or(0);
    Ok(Metrics::new(state.leak_status(), limit, &state.pauses()))
}

/// Fallback backend: counts one GC pause of `kind` seen from a perf_hooks
/// entry, `ns` nanoseconds long.
#[napi]
pub fn record_fallback_pause(env: Env, kind: PauseKind, ns: f64) -> Result<()> {
    let ns = if ns.is_finite() && ns > 0.0 {
        ns as u64
    } else {
        0
    };
    state(&env)?.record_fallback_pause(kind.into(), ns);
    Ok(())
}
