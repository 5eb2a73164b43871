//! Per-isolate state: one per N-API env (the main thread and each worker).
//!
//! Lives in the env's instance data behind an `Rc`; the GC callbacks hold
//! another `Rc` to [`GcSide`]. Everything runs on the isolate's own thread, so
//! interior mutability is `Cell`/`RefCell`. A GC can start inside any N-API
//! call that allocates, so no `RefCell` borrow is ever held across a call into
//! N-API or V8; the GC side uses `try_borrow_mut` and drops the record rather
//! than panic if that rule were ever broken.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Unknown;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::leak::{LeakConfig, LeakDetector, LeakReport};
use crate::payload::Stats;
use crate::probe::{ProbeConfig, Prober};
use crate::stats::{kind_slot, FullGc, GcTallies, StatsEngine};
use crate::v8::{gc_flags, gc_type, GcApi, GcHooks, GcObserver, Isolate};

/// Wakes the isolate's event loop from inside a GC. Unref'd: it never keeps
/// the process alive.
pub type Waker = ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>;

/// What JS listens to; with neither, GCs only bump counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interest {
    pub stats: bool,
    pub leak: bool,
}

/// What the GC callbacks do with a full GC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Emit per the current interest.
    Normal,
    /// `gc()` is running: keep the last full GC for it, emit nothing.
    Forced,
    /// A heap snapshot is being taken: its GCs are counted, nothing else.
    Suppressed,
}

/// An event waiting for the event loop.
#[derive(Debug, Clone)]
pub enum Event {
    Stats(Box<Stats>),
    Leak(LeakReport),
}

/// The part of the state that GC callbacks touch.
pub struct GcSide {
    v8: Option<(GcApi, Isolate)>,
    tallies: Cell<GcTallies>,
    starts: Cell<[Option<Instant>; 5]>,
    interest: Cell<Interest>,
    mode: Cell<Mode>,
    forced_last: Cell<Option<FullGc>>,
    engine: RefCell<StatsEngine>,
    leak: RefCell<LeakDetector>,
    prober: RefCell<Prober>,
    outbox: RefCell<Vec<Event>>,
    waker: RefCell<Option<Waker>>,
    wake_pending: Cell<bool>,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

impl GcSide {
    fn new(v8: Option<(GcApi, Isolate)>) -> Self {
        GcSide {
            v8,
            tallies: Cell::new(GcTallies::default()),
            starts: Cell::new([None; 5]),
            interest: Cell::new(Interest::default()),
            mode: Cell::new(Mode::Normal),
            forced_last: Cell::new(None),
            engine: RefCell::new(StatsEngine::default()),
            leak: RefCell::new(LeakDetector::new(LeakConfig::default())),
            prober: RefCell::new(Prober::new(ProbeConfig::default())),
            outbox: RefCell::new(Vec::new()),
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

    /// Turns a full GC into events per the interest; returns its stats.
    fn observe(&self, gc: &FullGc, emit_stats: bool) -> Option<Stats> {
        let interest = self.interest.get();
        let stats = self.engine.try_borrow_mut().ok()?.observe(gc);
        if let Ok(mut prober) = self.prober.try_borrow_mut() {
            prober.full_gc(gc.ts_ms, gc.heap.used_heap_size);
        }
        let leak = if interest.leak {
            self.leak
                .try_borrow_mut()
                .ok()?
                .observe(gc.ts_ms, gc.heap.used_heap_size, gc.heap.heap_size_limit)
                .report()
        } else {
            None
        };
        if let Ok(mut outbox) = self.outbox.try_borrow_mut() {
            if emit_stats && interest.stats {
                outbox.push(Event::Stats(Box::new(stats.clone())));
            }
            if let Some(report) = leak {
                outbox.push(Event::Leak(report));
            }
        }
        self.wake();
        Some(stats)
    }

    /// Schedules one call of the JS wake handler if events are waiting.
    fn wake(&self) {
        let has_events = self
            .outbox
            .try_borrow()
            .map(|o| !o.is_empty())
            .unwrap_or(false);
        if !has_events || self.wake_pending.get() {
            return;
        }
        if let Ok(waker) = self.waker.try_borrow() {
            if let Some(waker) = waker.as_ref() {
                if waker.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok {
                    self.wake_pending.set(true);
                }
            }
        }
    }
}

impl GcObserver for GcSide {
    fn gc_prologue(&self, gc_type: u32, _flags: u32) {
        if let Some(slot) = kind_slot(gc_type) {
            let mut starts = self.starts.get();
            starts[slot] = Some(Instant::now());
            self.starts.set(starts);
        }
    }

    fn gc_epilogue(&self, gc_type: u32, flags: u32) {
        let Some(slot) = kind_slot(gc_type) else {
            return;
        };
        let mut starts = self.starts.get();
        let ns = starts[slot]
            .take()
            .map(|t| t.elapsed().as_nanos().min(u64::MAX as u128) as u64)
            .unwrap_or(0);
        self.starts.set(starts);
        let mut tallies = self.tallies.get();
        let mode = self.mode.get();
        // `LowMemoryNotification` collects all available garbage, but V8 only
        // says so in the flags from Node 26 on.
        let flags = if mode == Mode::Forced {
            flags | gc_flags::COLLECT_ALL_AVAILABLE_GARBAGE
        } else {
            flags
        };
        tallies.record(gc_type, flags, ns);
        self.tallies.set(tallies);

        if gc_type != gc_type::MARK_SWEEP_COMPACT {
            return;
        }
        match mode {
            Mode::Suppressed => {}
            Mode::Forced => self.forced_last.set(self.full_gc_sample(ns, true)),
            Mode::Normal => {
                let interest = self.interest.get();
                if interest.stats || interest.leak {
                    if let Some(sample) = self.full_gc_sample(ns, false) {
                        self.observe(&sample, true);
                    }
                }
            }
        }
    }
}

/// Everything memwatch-rs keeps for one isolate.
pub struct IsolateState {
    /// `trackGC`'s part (see [`crate::track`]).
    pub track: Rc<crate::track::Tracker>,
    gc: Rc<GcSide>,
    hooks: RefCell<Option<GcHooks<GcSide>>>,
    closed: Cell<bool>,
    suppressed_from: Cell<Option<Mode>>,
    /// HeapDiff's per-isolate part.
    pub heap_diff: crate::heap_diff::PerIsolate,
}

impl IsolateState {
    /// State for the current isolate, with GC hooks registered when the V8
    /// API resolved (`v8` is `None` in fallback mode).
    pub fn new(v8: Option<(GcApi, Isolate)>, waker: Waker) -> Rc<Self> {
        let gc = Rc::new(GcSide::new(v8));
        *gc.waker.borrow_mut() = Some(waker);
        let hooks = v8.map(|(api, isolate)| api.add_gc_hooks(isolate, Rc::clone(&gc)));
        Rc::new(IsolateState {
            track: Rc::default(),
            gc,
            hooks: RefCell::new(hooks),
            closed: Cell::new(false),
            suppressed_from: Cell::new(None),
            heap_diff: Default::default(),
        })
    }

    /// Replaces the JS wake handler (the module was evaluated again in this env).
    pub fn set_waker(&self, waker: Waker) {
        *self.gc.waker.borrow_mut() = Some(waker);
        self.gc.wake_pending.set(false);
    }

    /// Env teardown: removes the GC callbacks and stops all wake-ups. Runs in
    /// the env cleanup hook, before N-API tears the env down.
    pub fn close(&self) {
        self.track.close();
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

    /// Sets what JS listens to.
    pub fn set_interest(&self, interest: Interest) {
        if !self.closed.get() {
            self.gc.interest.set(interest);
        }
    }

    /// Takes the events waiting for JS, oldest first.
    pub fn take_events(&self) -> Vec<Event> {
        self.gc.wake_pending.set(false);
        std::mem::take(&mut *self.gc.outbox.borrow_mut())
    }

    /// Runs a full, compacting GC now and returns its stats; with
    /// `emit_stats` the stats are also queued as one `stats` event.
    pub fn force_gc(&self, emit_stats: bool) -> Option<Stats> {
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
        self.gc.observe(&sample, emit_stats)
    }

    /// Whether the leak detector is due an early full GC (see
    /// [`crate::probe`]). On the V8 backend this also asks V8 for it; in
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
        let state = self
            .gc
            .leak
            .try_borrow()
            .map(|l| l.status().state)
            .unwrap_or_default();
        let due = self.gc.prober.borrow_mut().due(now_ms(), used, state);
        if due {
            if let Some((api, isolate)) = v8 {
                api.memory_pressure_moderate(isolate);
            }
        }
        due
    }

    /// The detector and probe settings in force.
    pub fn config(&self) -> (LeakConfig, ProbeConfig) {
        (
            self.gc.leak.borrow().config().clone(),
            self.gc.prober.borrow().config(),
        )
    }

    /// Replaces the settings; the detector and the probe start afresh.
    pub fn set_config(&self, leak: LeakConfig, probe: ProbeConfig) {
        *self.gc.leak.borrow_mut() = LeakDetector::new(leak);
        *self.gc.prober.borrow_mut() = Prober::new(probe);
    }

    /// Fallback mode: a full GC observed from JS (perf_hooks and
    /// `v8.getHeapStatistics()`) goes through the same maths and detector.
    pub fn observe_external(&self, gc: &FullGc, emit_stats: bool) -> Option<Stats> {
        if self.closed.get() {
            return None;
        }
        self.gc.observe(gc, emit_stats)
    }
}
