//! Per-isolate state: one per N-API env (the main thread and each worker).
//!
//! Lives in the env's instance data behind an `Rc`; the GC callbacks hold
//! another `Rc` to [`GcSide`]. Everything runs on the isolate's own thread, so
//! interior mutability is `Cell`/`RefCell`. A GC can start inside any N-API
//! call that allocates, so no `RefCell` borrow is ever held across a call into
//! N-API or V8; the GC side uses `try_borrow_mut` and drops the record rather
//! than panic if that rule were ever broken.
//!
//! A GC event takes one straight path: V8's callback (inside the GC: a clock
//! read, counters, heap statistics for a full GC) pushes a [`FullGc`] record
//! and wakes the event loop; on the loop, [`IsolateState::take_events`] turns
//! the records into typed `stats` payloads and feeds the leak detector, and
//! the list goes to JS in one call.
//!
//! Heap censuses run here too: `memwatch.census()` and census HeapDiffs,
//! and, while a `leak` listener is attached, the censuses behind a leak's
//! `suspects` (see [`SuspectWatch`]), taken in the same loop turn, before
//! the `leak` event is handed to JS. Every census runs outside any GC, with
//! its GCs suppressed like a heap snapshot's.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Unknown;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};

use crate::ffi::census::CensusApi;
use crate::ffi::gc::{GcApi, GcHooks, GcObserver, Isolate};
use crate::ffi::layout_for;
use crate::gc::kind::{GcFlags, GcKind};
use crate::gc::leak::{LeakConfig, LeakDetector, Outcome};
use crate::gc::pauses::GcPauses;
use crate::gc::probe::{ProbeConfig, Prober};
use crate::gc::stats::{FullGc, GcTallies, StatsEngine};
use crate::heap_diff::census::{
    affordable, measured_pause_rate, Census, SuspectWatch, SuspectsConfig, Want,
};
use crate::payload::{Event, LeakInfo, LeakStatusInfo, LeakSuspect, SamplingSite, Stats};
use crate::track::Tracker;
use crate::trim::{DeferredTrim, TRIM_DELAY};

/// Calls the JS event handler on the isolate's loop with the events due.
/// Unref'd while nothing is due from `gc()`: it never keeps the process
/// alive for a natural GC's `stats`.
pub type Waker = ThreadsafeFunction<(), Unknown<'static>, Vec<Event>, Status, false, true>;

/// What JS listens to; with neither, GCs only bump counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interest {
    /// A `stats` listener is attached.
    pub stats: bool,
    /// The leak detector runs: a `leak` listener or an exporter's hold.
    pub leak: bool,
    /// A `leak` listener is attached: reports are delivered, so they carry
    /// suspects (heap censuses) and allocation sites. An exporter's hold
    /// alone reads only the detector's figures and pays for neither.
    pub reports: bool,
}

/// What the GC callbacks do with a full GC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Record it for the event loop, per the current interest.
    Normal,
    /// `gc()` is running: keep the last full GC for it, record nothing.
    Forced,
    /// A heap snapshot is being taken: its GCs are counted, nothing else.
    Suppressed,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The part of the state that GC callbacks touch.
pub struct GcSide {
    v8: Option<(GcApi, Isolate)>,
    tallies: Cell<GcTallies>,
    /// Pause histograms by kind (for metrics exporters).
    pauses: RefCell<GcPauses>,
    starts: Cell<[Option<Instant>; 5]>,
    interest: Cell<Interest>,
    mode: Cell<Mode>,
    forced_last: Cell<Option<FullGc>>,
    /// Full GCs waiting for the event loop.
    records: RefCell<Vec<FullGc>>,
    waker: RefCell<Option<Waker>>,
    wake_pending: Cell<bool>,
}

impl GcSide {
    fn new(v8: Option<(GcApi, Isolate)>) -> Self {
        GcSide {
            v8,
            tallies: Cell::new(GcTallies::default()),
            pauses: RefCell::new(GcPauses::default()),
            starts: Cell::new([None; 5]),
            interest: Cell::new(Interest::default()),
            mode: Cell::new(Mode::Normal),
            forced_last: Cell::new(None),
            records: RefCell::new(Vec::new()),
            waker: RefCell::new(None),
            wake_pending: Cell::new(false),
        }
    }

    fn full_gc_sample(&self, pause_ns: u64, forced: bool) -> Option<FullGc> {
        let (api, isolate) = self.v8?;
        Some(FullGc {
            ts_ms: now_ms(),
            pause_ns,
            heap: api.heap_statistics(isolate),
            tallies: self.tallies.get(),
            forced,
        })
    }

    /// Schedules one call of the JS event handler. With `keep_alive` (an
    /// env, from a JS call) the wake-up also keeps the loop alive until it
    /// has run.
    fn wake(&self, keep_alive: Option<&Env>) {
        if let Ok(mut waker) = self.waker.try_borrow_mut() {
            if let Some(waker) = waker.as_mut() {
                if let Some(env) = keep_alive {
                    // `napi_ref_threadsafe_function`, which napi-rs marks
                    // deprecated in favour of cloning; cloning counts users,
                    // it does not keep the event loop alive, which is what
                    // is needed here.
                    #[allow(deprecated)]
                    let _ = waker.refer(env);
                }
                if !self.wake_pending.get()
                    && waker.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
                {
                    self.wake_pending.set(true);
                }
            }
        }
    }
}

impl GcObserver for GcSide {
    fn gc_prologue(&self, gc_type: u32, _flags: u32) {
        if let Some(kind) = GcKind::from_v8(gc_type) {
            let mut starts = self.starts.get();
            starts[kind.slot()] = Some(Instant::now());
            self.starts.set(starts);
        }
    }

    fn gc_epilogue(&self, gc_type: u32, flags: u32) {
        let Some(kind) = GcKind::from_v8(gc_type) else {
            return;
        };
        let mut starts = self.starts.get();
        let ns = starts[kind.slot()]
            .take()
            .map(|t| t.elapsed().as_nanos().min(u64::MAX as u128) as u64)
            .unwrap_or(0);
        self.starts.set(starts);
        let mode = self.mode.get();
        let flags = GcFlags(flags);
        let flags = if mode == Mode::Forced {
            flags.with_all_available_garbage()
        } else {
            flags
        };
        let mut tallies = self.tallies.get();
        tallies.record(kind, flags, ns);
        self.tallies.set(tallies);
        // Never borrowed across a call that can GC; dropped rather than
        // panic if that rule were broken.
        if let Ok(mut pauses) = self.pauses.try_borrow_mut() {
            pauses.record(kind, ns);
        }

        if kind != GcKind::MarkSweepCompact {
            return;
        }
        match mode {
            Mode::Suppressed => {}
            Mode::Forced => self.forced_last.set(self.full_gc_sample(ns, true)),
            Mode::Normal => {
                let interest = self.interest.get();
                if interest.stats || interest.leak {
                    if let Some(sample) = self.full_gc_sample(ns, false) {
                        if let Ok(mut records) = self.records.try_borrow_mut() {
                            records.push(sample);
                        }
                        self.wake(None);
                    }
                }
            }
        }
    }
}

/// Why a census was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CensusFailure {
    /// A census cannot run in this thread, and why.
    Unavailable(String),
    /// A census is already running (no JS runs during one, so this is a
    /// guard, not a path anyone can take).
    Running,
    /// V8 could not take it, and why.
    Failed(&'static str),
}

/// Everything memwatch-rs keeps for one isolate.
pub struct IsolateState {
    /// `trackGC`'s part (see [`crate::track`]).
    pub track: Rc<Tracker>,
    /// HeapDiff's part.
    pub heap_diff: crate::heap_diff::PerIsolate,
    /// Allocation sampling's part.
    pub sampling: crate::sampling::PerIsolate,
    /// Major version of the running Node.
    pub node_major: u32,
    gc: Rc<GcSide>,
    hooks: RefCell<Option<GcHooks<GcSide>>>,
    closed: Cell<bool>,
    suppressed_from: Cell<Option<Mode>>,
    engine: RefCell<StatsEngine>,
    leak: RefCell<LeakDetector>,
    prober: RefCell<Prober>,
    /// Events made from records, waiting for the JS handler.
    ready: RefCell<Vec<Event>>,
    /// The base after the latest full GC processed.
    last_base: Cell<u64>,
    /// `leak` events made so far.
    leaks: Cell<u64>,
    /// Why the fallback backend serves this thread (`None` on the V8 one).
    fallback_reason: Option<String>,
    /// The census's V8 entry points, resolved on first use, or why not.
    census_api: OnceCell<Result<CensusApi, String>>,
    census_running: Cell<bool>,
    /// The allocator trim due a second after the last census (dropping it
    /// cancels it: a new census, or the thread's teardown).
    census_trim: RefCell<Option<DeferredTrim>>,
    /// The censuses behind `leak` events' `suspects`.
    suspects: RefCell<SuspectWatch>,
    /// `configure({ suspects, suspectsMaxHeapBytes })`.
    suspects_config: Cell<SuspectsConfig>,
    /// Seconds per MiB of live heap of the last suspects' census big enough
    /// to say: the pause a skipped one names.
    census_pause_rate: Cell<Option<f64>>,
}

impl IsolateState {
    /// State for the current isolate, with GC hooks registered when the V8
    /// API resolved (`v8` is why not in fallback mode).
    pub fn new(v8: Result<(GcApi, Isolate), String>, node_major: u32) -> Rc<Self> {
        let (v8, fallback_reason) = match v8 {
            Ok(v8) => (Some(v8), None),
            Err(reason) => (None, Some(reason)),
        };
        let gc = Rc::new(GcSide::new(v8));
        let hooks = v8.map(|(api, isolate)| api.add_gc_hooks(isolate, Rc::clone(&gc)));
        Rc::new(IsolateState {
            track: Rc::default(),
            heap_diff: Default::default(),
            sampling: Default::default(),
            node_major,
            gc,
            hooks: RefCell::new(hooks),
            closed: Cell::new(false),
            suppressed_from: Cell::new(None),
            engine: RefCell::new(StatsEngine::default()),
            leak: RefCell::new(LeakDetector::new(LeakConfig::default())),
            prober: RefCell::new(Prober::new(ProbeConfig::default())),
            ready: RefCell::new(Vec::new()),
            last_base: Cell::new(0),
            leaks: Cell::new(0),
            fallback_reason,
            census_api: OnceCell::new(),
            census_running: Cell::new(false),
            census_trim: RefCell::new(None),
            suspects: RefCell::new(SuspectWatch::default()),
            suspects_config: Cell::new(SuspectsConfig::default()),
            census_pause_rate: Cell::new(None),
        })
    }

    /// Sets (or replaces, when the module is evaluated again in this env)
    /// the JS event handler's wake-up.
    pub fn set_waker(&self, waker: Waker) {
        *self.gc.waker.borrow_mut() = Some(waker);
        self.gc.wake_pending.set(false);
    }

    /// Env teardown: removes the GC callbacks and stops all wake-ups. Runs in
    /// the env cleanup hook, before N-API tears the env down.
    pub fn close(&self) {
        self.track.close();
        self.sampling.close();
        self.closed.set(true);
        let hooks = self.hooks.borrow_mut().take();
        drop(hooks);
        let waker = self.gc.waker.borrow_mut().take();
        drop(waker);
        self.gc.interest.set(Interest::default());
    }

    /// True when GC hooks come from V8.
    pub fn has_v8(&self) -> bool {
        self.gc.v8.is_some()
    }

    /// The isolate when the V8 backend is in use.
    pub fn v8_isolate(&self) -> Option<Isolate> {
        self.gc.v8.map(|(_, isolate)| isolate)
    }

    /// Runs `f` (which takes a heap snapshot) with its GCs counted but not
    /// reported: no `stats`, no leak detection, no wake-up.
    pub fn suppressed<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore<'a>(&'a GcSide, Mode);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.mode.set(self.1);
            }
        }
        let _restore = Restore(&self.gc, self.gc.mode.replace(Mode::Suppressed));
        f()
    }

    /// [`suppressed`](Self::suppressed) as on/off calls, for a snapshot taken
    /// by JS between them. Calls do not nest.
    pub fn set_suppressed(&self, on: bool) {
        if on {
            if self.suppressed_from.get().is_none() {
                self.suppressed_from
                    .set(Some(self.gc.mode.replace(Mode::Suppressed)));
            }
        } else if let Some(previous) = self.suppressed_from.take() {
            self.gc.mode.set(previous);
        }
    }

    /// Sets what JS listens to. A `leak` listener attached or removed
    /// moves the baseline of the allocation sites its reports carry; without
    /// one the suspects' census is dropped: watching starts afresh with the
    /// next listener.
    pub fn set_interest(&self, env: &Env, interest: Interest) {
        if !self.closed.get() {
            let was = self.gc.interest.replace(interest);
            if was.reports != interest.reports {
                self.sampling.watch_leaks(env, interest.reports);
            }
        }
        if !interest.reports {
            self.suspects.borrow_mut().reset();
        }
    }

    /// The census's V8 entry points, or why a census cannot run here.
    fn census_api(&self) -> Result<CensusApi, String> {
        self.census_api
            .get_or_init(|| {
                if self.gc.v8.is_none() {
                    let why = self.fallback_reason.as_deref().unwrap_or("no V8 symbols");
                    return Err(format!(
                        "memwatch-rs runs on its fallback backend in this thread ({why})"
                    ));
                }
                let Some(layout) = layout_for(self.node_major) else {
                    return Err(format!(
                        "Node {} is not in the verified V8 table",
                        self.node_major
                    ));
                };
                CensusApi::resolve(layout).map_err(|why| why.to_string())
            })
            .clone()
    }

    /// Whether a census can run in this thread (`Err`: why not).
    pub fn census_available(&self) -> Result<(), String> {
        self.census_api().map(|_| ())
    }

    /// Takes a heap census now, its GCs suppressed. Call only from a call
    /// into native code with `env` (a JS call or the loop's wake-up).
    pub fn census(&self, env: &Env) -> Result<Census, CensusFailure> {
        if self.closed.get() {
            return Err(CensusFailure::Unavailable(
                "this thread is shutting down".into(),
            ));
        }
        let api = self.census_api().map_err(CensusFailure::Unavailable)?;
        let Some(isolate) = self.v8_isolate() else {
            return Err(CensusFailure::Unavailable("no V8 isolate".into()));
        };
        if self.census_running.replace(true) {
            return Err(CensusFailure::Running);
        }
        struct Done<'a>(&'a Cell<bool>);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        let _done = Done(&self.census_running);
        let time_ms = now_ms();
        let raw = self.suppressed(|| api.census(isolate, env));
        // V8's reachability filter freed ~40 bytes per live object into the
        // allocator: hand it back rather than leave the process that much
        // bigger after every census, but a second later, so that a census
        // diff's second census reuses it (trimming at once made a
        // back-to-back census diff ~15% slower). A new census replaces
        // (cancels) the pending trim.
        *self.census_trim.borrow_mut() = DeferredTrim::after(TRIM_DELAY);
        Ok(Census::new(raw.map_err(CensusFailure::Failed)?, time_ms))
    }

    /// A census for the suspects of `leak` events, on a live heap of
    /// `heap_used` bytes: skipped when the heap is over
    /// `suspectsMaxHeapBytes` or the census would take too much of the
    /// memory left (`Err`: why it was not taken).
    fn suspects_census(&self, env: &Env, heap_used: u64) -> Result<Census, String> {
        let max = self.suspects_config.get().max_heap_bytes;
        affordable(
            heap_used,
            max,
            self.census_pause_rate.get(),
            crate::ffi::available_memory,
        )?;
        let started = Instant::now();
        let census = self.census(env).map_err(|failure| match failure {
            CensusFailure::Unavailable(why) => why,
            CensusFailure::Running => "a census was already running".to_owned(),
            CensusFailure::Failed(why) => format!("V8 could not take it ({why})"),
        })?;
        if let Some(rate) = measured_pause_rate(heap_used, started.elapsed().as_secs_f64()) {
            self.census_pause_rate.set(Some(rate));
        }
        Ok(census)
    }

    /// On the loop, in the wake-up: turns the waiting records into events
    /// and takes every event due, oldest first.
    pub fn take_events(&self, env: &Env) -> Vec<Event> {
        self.gc.wake_pending.set(false);
        if let Some(waker) = self.gc.waker.borrow_mut().as_mut() {
            // Back to not keeping the loop alive (see `GcSide::wake`).
            #[allow(deprecated)]
            let _ = waker.unref(env);
        }
        self.process_records(env);
        std::mem::take(&mut *self.ready.borrow_mut())
    }

    fn process_records(&self, env: &Env) {
        let records = std::mem::take(&mut *self.gc.records.borrow_mut());
        for gc in &records {
            self.process(env, gc, true);
        }
    }

    /// Which census the suspects want after this GC; none (and nothing
    /// kept) unless a `leak` listener is attached, `suspects` is on and a
    /// census can run here.
    fn plan_suspects(&self, outcome: &Outcome, watching: bool) -> Want {
        if !watching
            || !self.suspects_config.get().on
            || self.closed.get()
            || self.census_available().is_err()
        {
            self.suspects.borrow_mut().reset();
            return Want::Nothing;
        }
        let state = self.leak.borrow().status().state;
        self.suspects.borrow_mut().plan(outcome, state)
    }

    /// One full GC through memwatch's maths, the probe's bookkeeping and the
    /// leak detector, and the census it calls for; queues its events and
    /// returns its stats. On the event loop (or in a JS call), never inside a
    /// GC: a `leak` report reads the allocation profile and a census, which
    /// allocate on the JS heap.
    fn process(&self, env: &Env, gc: &FullGc, emit_stats: bool) -> Stats {
        let base = self.engine.borrow_mut().observe(gc);
        let stats = Stats::new(gc, &base);
        self.prober
            .borrow_mut()
            .full_gc(gc.ts_ms, gc.heap.used_heap_size);
        self.last_base.set(gc.heap.used_heap_size);
        let interest = self.gc.interest.get();
        let outcome = if interest.leak {
            self.leak.borrow_mut().observe(
                gc.ts_ms,
                gc.heap.used_heap_size,
                gc.heap.heap_size_limit,
            )
        } else {
            Outcome::Nothing
        };
        // No borrow is held across a census (it runs GCs and N-API calls).
        let suspects = match self.plan_suspects(&outcome, interest.reports) {
            Want::Nothing => None,
            Want::Reference => {
                let census = self.suspects_census(env, gc.heap.used_heap_size);
                self.suspects.borrow_mut().set_reference(census);
                None
            }
            Want::Report => {
                let census = self.suspects_census(env, gc.heap.used_heap_size);
                Some(self.suspects.borrow_mut().report(census))
            }
        };
        // While allocation sampling runs, the detector's moments move the
        // baseline of the sites a report carries: growth suspected (the
        // floor started rising) and each report; a report carries the sites
        // that grew since. Read before `ready` is borrowed: it allocates.
        let leak = match outcome {
            Outcome::Leak(report) => Some(LeakInfo {
                sites: self
                    .sampling
                    .leak_sites(env)
                    .map(|sites| sites.iter().map(SamplingSite::from).collect()),
                suspects_skipped: suspects.as_ref().and_then(|s| s.as_ref().err().cloned()),
                suspects: suspects
                    .and_then(Result::ok)
                    .map(|s| s.iter().map(LeakSuspect::from).collect()),
                ..LeakInfo::from(&report)
            }),
            Outcome::GrowthSuspected => {
                self.sampling.growth_suspected(env);
                None
            }
            Outcome::Nothing => None,
        };
        let mut ready = self.ready.borrow_mut();
        if emit_stats && interest.stats {
            ready.push(Event::Stats {
                stats: stats.clone(),
            });
        }
        if let Some(leak) = leak {
            self.leaks.set(self.leaks.get() + 1);
            ready.push(Event::Leak { leak });
        }
        stats
    }

    /// A full GC run on request (`gc()`): earlier records are processed
    /// first, so events stay in order; with `emit` its `stats` event is
    /// delivered on the next loop turn, which the wake-up keeps alive.
    fn forced(&self, env: &Env, gc: &FullGc, emit: bool) -> Stats {
        self.process_records(env);
        let stats = self.process(env, gc, emit);
        if !self.ready.borrow().is_empty() {
            self.gc.wake(Some(env));
        }
        stats
    }

    /// Runs a full, compacting GC now (V8 backend) and returns its stats;
    /// `None` on the fallback backend.
    pub fn force_gc(&self, env: &Env, emit: bool) -> Option<Stats> {
        let (api, isolate) = self.gc.v8?;
        let previous = self.gc.mode.replace(Mode::Forced);
        self.gc.forced_last.set(None);
        let started = Instant::now();
        api.low_memory_notification(isolate);
        let total_ns = started.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        self.gc.mode.set(previous);
        let sample = match self.gc.forced_last.take() {
            Some(last) => FullGc {
                pause_ns: total_ns,
                ..last
            },
            // No full GC reported (should not happen): read the heap now.
            None => self.gc.full_gc_sample(total_ns, true)?,
        };
        Some(self.forced(env, &sample, emit))
    }

    /// Fallback backend: a full GC seen from JS (perf_hooks and
    /// `v8.getHeapStatistics()`). A natural one is queued like a GC hook
    /// would; `gc()`'s is processed at once and its stats returned.
    pub fn observe_fallback_gc(&self, env: &Env, gc: FullGc, emit: bool) -> Option<Stats> {
        if self.closed.get() {
            return None;
        }
        if gc.forced {
            return Some(self.forced(env, &gc, emit));
        }
        self.gc.records.borrow_mut().push(gc);
        self.gc.wake(None);
        None
    }

    /// Whether the leak detector is due an early full GC (see
    /// [`crate::gc::probe`]). On the V8 backend this also asks V8 for it; in
    /// fallback mode the caller passes the used heap and runs the GC itself.
    pub fn probe_if_due(&self, used_heap: Option<u64>) -> bool {
        if !self.gc.interest.get().leak {
            return false;
        }
        let v8 = self.gc.v8;
        let Some(used) =
            used_heap.or_else(|| v8.map(|(api, iso)| api.heap_statistics(iso).used_heap_size))
        else {
            return false;
        };
        let status = self.leak.borrow().status();
        let due = self.prober.borrow_mut().due(now_ms(), used, &status);
        if due {
            if let Some((api, isolate)) = v8 {
                api.memory_pressure_moderate(isolate);
            }
        }
        due
    }

    /// The leak detector's current estimate.
    pub fn leak_status(&self) -> LeakStatusInfo {
        LeakStatusInfo::new(
            self.gc.interest.get().leak,
            &self.leak.borrow().status(),
            self.last_base.get(),
            self.leaks.get(),
        )
    }

    /// The GC pause histograms so far.
    pub fn pauses(&self) -> GcPauses {
        *self.gc.pauses.borrow()
    }

    /// Fallback backend: one GC pause seen from a perf_hooks entry.
    pub fn record_fallback_pause(&self, kind: GcKind, ns: u64) {
        if !self.closed.get() {
            self.gc.pauses.borrow_mut().record(kind, ns);
        }
    }

    /// V8's heap size limit now (V8 backend; `None` in fallback mode).
    pub fn heap_size_limit(&self) -> Option<u64> {
        self.gc
            .v8
            .map(|(api, isolate)| api.heap_statistics(isolate).heap_size_limit)
    }

    /// The detector, probe and suspects settings in force.
    pub fn config(&self) -> (LeakConfig, ProbeConfig, SuspectsConfig) {
        (
            self.leak.borrow().config().clone(),
            self.prober.borrow().config(),
            self.suspects_config.get(),
        )
    }

    /// Replaces the settings; the detector, the probe and the suspects'
    /// reference census start afresh, and so does the baseline of the
    /// allocation sites a report carries.
    pub fn set_config(
        &self,
        env: &Env,
        leak: LeakConfig,
        probe: ProbeConfig,
        suspects: SuspectsConfig,
    ) {
        *self.leak.borrow_mut() = LeakDetector::new(leak);
        *self.prober.borrow_mut() = Prober::new(probe);
        self.suspects_config.set(suspects);
        self.suspects.borrow_mut().reset();
        if self.gc.interest.get().reports {
            self.sampling.watch_leaks(env, true);
        }
    }
}
