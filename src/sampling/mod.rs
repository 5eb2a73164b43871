//! Where was it allocated: V8's sampling heap profiler, per isolate.
//!
//! V8 samples an allocation every `interval` bytes on average (Poisson
//! spaced), records its stack, and drops the sample when the object dies,
//! so a profile is the live heap by allocation stack, at a cost of well
//! under 1% CPU at the default 512 KiB. This module is the isolate's
//! service around it: [`PerIsolate`] starts and stops the sampler (stopping
//! it at env cleanup), reads profiles ([`profile`]: sites, largest first;
//! [`pprof`]: the file format), and keeps the baseline the `leak` event's
//! allocation sites are measured from ([`PerIsolate::leak_sites`]).
//!
//! V8 has one sampler per isolate, shared with the inspector, DevTools and
//! `--heap-prof`. Another profiler's `stopSampling` stops ours without a
//! word; the next read notices (V8 returns no profile), forgets the state
//! and says so.

pub mod pprof;
pub mod pprof_proto;
pub mod profile;

use std::cell::{Cell, OnceCell, RefCell};
use std::num::NonZeroU64;

use napi::Env;

use crate::ffi::gc::Isolate;
use crate::ffi::layout_for;
use crate::ffi::sampling::SamplingApi;
use profile::{Profile, Site, TreeNode};

/// Default mean bytes between samples (V8's and @datadog/pprof's default).
pub const DEFAULT_INTERVAL: u64 = 512 * 1024;
/// Largest interval: V8 clamps each step to `INT_MAX` bytes, so a larger
/// mean would not be the one asked for.
pub const MAX_INTERVAL: u64 = i32::MAX as u64;
/// Default frames kept per sample.
pub const DEFAULT_DEPTH: u32 = 64;
/// Most frames kept per sample.
pub const MAX_DEPTH: u32 = 1024;
/// Sites a `leak` event carries at most.
pub const LEAK_SITES: usize = 10;

/// How the sampler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Mean bytes between samples, 1 to [`MAX_INTERVAL`].
    pub interval_bytes: u64,
    /// Frames kept per sample, 1 to [`MAX_DEPTH`].
    pub stack_depth: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            interval_bytes: DEFAULT_INTERVAL,
            stack_depth: DEFAULT_DEPTH,
        }
    }
}

/// Our sampler, while it runs.
#[derive(Clone, Copy)]
struct On {
    api: SamplingApi,
    isolate: Isolate,
    settings: Settings,
}

/// The message when another profiler stopped ours.
pub const TAKEN: &str = "allocation sampling was stopped by another profiler in this thread (the inspector's HeapProfiler.stopSampling, DevTools or --heap-prof share V8's one sampler); call memwatch.startSampling() again";

/// Sampling's per-isolate state (inside the isolate's state).
#[derive(Default)]
pub struct PerIsolate {
    api: OnceCell<Result<SamplingApi, String>>,
    on: Cell<Option<On>>,
    /// The sites the next `leak` report is measured from (`None`: an empty
    /// profile, as when sampling starts).
    baseline: RefCell<Option<Vec<Site>>>,
    /// Whether a `leak` listener is attached.
    watching: Cell<bool>,
}

impl PerIsolate {
    fn api(
        &self,
        node_major: u32,
        isolate: Option<Isolate>,
    ) -> Result<(SamplingApi, Isolate), String> {
        let Some(isolate) = isolate else {
            return Err("allocation sampling needs the V8 backend, and this thread runs the fallback backend (memwatch.backend is 'fallback')".into());
        };
        let api = self.api.get_or_init(|| {
            let layout = layout_for(node_major)
                .ok_or_else(|| format!("Node {node_major} is not in the verified V8 table"))?;
            SamplingApi::resolve(layout)
                .map_err(|missing| format!("this node binary does not export {missing}"))
        });
        match api {
            Ok(api) => Ok((*api, isolate)),
            Err(why) => Err(format!("allocation sampling is not available: {why}")),
        }
    }

    /// Starts sampling with `settings`. Errors: unavailable here, already
    /// running (ours), or another profiler owns V8's sampler.
    pub fn start(
        &self,
        node_major: u32,
        isolate: Option<Isolate>,
        settings: Settings,
    ) -> Result<(), String> {
        let (api, isolate) = self.api(node_major, isolate)?;
        if let Some(on) = self.on.get() {
            return Err(format!(
                "allocation sampling is already running in this thread (intervalBytes {}, stackDepth {}); call memwatch.stopSampling() first",
                on.settings.interval_bytes, on.settings.stack_depth
            ));
        }
        let interval = NonZeroU64::new(settings.interval_bytes.clamp(1, MAX_INTERVAL))
            .unwrap_or(NonZeroU64::MIN);
        let depth = settings.stack_depth.clamp(1, MAX_DEPTH) as i32;
        if !api.start(isolate, interval, depth) {
            return Err("another sampling heap profiler is already running in this thread (the inspector's HeapProfiler.startSampling, DevTools or --heap-prof); V8 has one per thread".into());
        }
        self.on.set(Some(On {
            api,
            isolate,
            settings,
        }));
        // A new sampler holds no sample: the leak baseline is empty.
        *self.baseline.borrow_mut() = None;
        Ok(())
    }

    /// Whether our sampler is running in this thread (as far as we know:
    /// another profiler may have stopped it since, see `read`).
    pub fn running(&self) -> bool {
        self.on.get().is_some()
    }

    /// Stops our sampler; false if it was not running.
    pub fn stop(&self) -> bool {
        let Some(on) = self.on.take() else {
            return false;
        };
        on.api.stop(on.isolate);
        *self.baseline.borrow_mut() = None;
        true
    }

    /// Env teardown: stops our sampler, so that no sample of a dying env is
    /// left to V8's teardown order.
    pub fn close(&self) {
        self.stop();
        self.watching.set(false);
    }

    /// The current profile. Errors when sampling is not running, or when
    /// another profiler stopped it (then the state is forgotten).
    pub fn read(&self, env: &Env, now_ms: f64) -> Result<Profile, String> {
        let Some(on) = self.on.get() else {
            return Err(
                "allocation sampling is not running in this thread: call memwatch.startSampling() first"
                    .into(),
            );
        };
        let Some(nodes) = on.api.profile(on.isolate, env) else {
            self.on.set(None);
            *self.baseline.borrow_mut() = None;
            return Err(TAKEN.into());
        };
        let tree: Vec<TreeNode> = nodes
            .into_iter()
            .map(|n| TreeNode {
                parent: n.parent,
                function: n.name,
                script: n.script,
                line: n.line,
                column: n.column,
                allocations: n.allocations,
            })
            .collect();
        Ok(Profile {
            time_ms: now_ms,
            interval_bytes: on.settings.interval_bytes,
            stack_depth: on.settings.stack_depth,
            sites: profile::sites(&tree),
        })
    }

    /// A `leak` listener was attached (`true`) or the last one removed, or
    /// the detector restarted (`true` again): the sites a report carries are
    /// measured from now.
    pub fn watch_leaks(&self, env: &Env, on: bool) {
        self.watching.set(on);
        let baseline = if on && self.on.get().is_some() {
            self.read(env, 0.0).ok().map(|p| p.sites)
        } else {
            None
        };
        *self.baseline.borrow_mut() = baseline;
    }

    /// The leak detector suspects growth (its floor started rising): the
    /// sites a report carries are measured from now, so that what filled
    /// before the rise (caches warming up) is left out.
    pub fn growth_suspected(&self, env: &Env) {
        if self.watching.get() && self.on.get().is_some() {
            let now = self.read(env, 0.0).ok().map(|p| p.sites);
            *self.baseline.borrow_mut() = now;
        }
    }

    /// At a `leak` report, on the event loop: the sites that grew most
    /// since the baseline (growth suspected, the detector's start or its
    /// last report), and the baseline moves to now. `None` when sampling is
    /// not running.
    pub fn leak_sites(&self, env: &Env) -> Option<Vec<Site>> {
        self.on.get()?;
        let now = self.read(env, 0.0).ok()?.sites;
        let before = self.baseline.borrow_mut().take().unwrap_or_default();
        let grown = profile::grown(&before, &now, LEAK_SITES);
        if self.watching.get() {
            *self.baseline.borrow_mut() = Some(now);
        }
        Some(grown)
    }
}
