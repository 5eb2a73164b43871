//! `memwatch.trackGC(target, callback)`: run `callback` on the event loop once
//! `target` has been garbage-collected.
//!
//! The work is split three ways, each kept as cheap per object as it can be:
//!
//! * **JS** (`lib/track-gc.js`) keeps the callbacks in an array indexed by a small
//!   integer id, with a free list and a generation per id. Ids are reused only
//!   once their registration is over (delivered, or cancelled before its
//!   finalizer ran), so a late finalizer never meets a newer registration,
//!   and the generation turns stale cancel functions into no-ops.
//! * **The raw Node-API glue** ([`crate::ffi::track_gc`]) attaches one
//!   `napi_add_finalizer` per target whose finalize data is the id itself,
//!   and keeps the reference it returns in a vector indexed by id (8 bytes per
//!   id, no allocation of ours per object). `cancel()` deletes that reference,
//!   so Node frees its record at once instead of when the target is
//!   collected; the finalizer deletes it otherwise.
//! * **This module** decides what the finalizer does with an id: push it into
//!   the env's pending batch and, for the first id of a batch only, have the
//!   glue send one wake-up through a threadsafe function. On the JS thread the
//!   batch is swapped out and handed to JS as one `Uint32Array`, where each
//!   callback runs (a throw is re-raised on its own tick, so the rest of the
//!   batch still runs).
//!
//! # Finalizer modes
//!
//! By default the addon declares Node-API module version
//! `NAPI_VERSION_EXPERIMENTAL`, which makes Node run its finalizers inside the
//! GC instead of queueing each one for a later loop turn: about 1.3x the cost
//! of a `FinalizationRegistry` instead of about 2x. The price is a rule for the
//! whole addon, stated at [`crate::ffi::track_gc::node_api_module_get_api_version_v1`]:
//! every finalizer (and every `Drop` run from one) makes only "basic"
//! Node-API calls. `MEMWATCH_DEFERRED_FINALIZERS=1` at load time selects
//! Node's default module version 8 instead: deferred finalizers, same
//! behaviour, slower.
//!
//! # Lifetime
//!
//! One [`Tracker`] per env (main thread and each worker), owned by the env's
//! `IsolateState` and by one strong count per live registration (see the glue's
//! module docs). The env cleanup hook calls [`Tracker::close`]: from then on
//! finalizers only delete their reference and give their count back, nothing
//! reaches JS. Node-API's own teardown of the env runs the finalizer of every
//! registration still alive, so none of their references outlives the env.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use napi::bindgen_prelude::{FnArgs, Function, JsObjectValue, Object, Unknown};
use napi::{Env, JsValue, Result, UnknownRef};

use crate::ffi::track_gc::{self as node_api, Collector, Refs, Wake};

/// The ids collected since the last delivery, and whether a wake-up for
/// them is on its way.
///
/// A GC can start inside any N-API call that allocates, and finalizers may
/// run inside it, so no borrow of `pending` is ever held across a call into
/// N-API or JS. Finalizers use `try_borrow_mut` anyway and would drop one id
/// rather than abort the process if that rule were ever broken.
#[derive(Default)]
pub struct Batch {
    pending: RefCell<Vec<u32>>,
    armed: Cell<bool>,
    closing: Cell<bool>,
}

impl Batch {
    /// Records a collected id. True for the first id of a batch: the caller
    /// must send one wake-up (and report [`wake_failed`](Self::wake_failed)
    /// if it could not).
    pub fn collected(&self, id: u32) -> bool {
        if self.closing.get() {
            return false;
        }
        match self.pending.try_borrow_mut() {
            Ok(mut pending) => pending.push(id),
            Err(_) => return false,
        }
        !self.armed.replace(true)
    }

    /// The wake-up was not sent: the next collection tries again.
    pub fn wake_failed(&self) {
        self.armed.set(false);
    }

    /// Takes the due ids, oldest first; the next collection starts a batch.
    pub fn take(&self) -> Vec<u32> {
        self.armed.set(false);
        if self.closing.get() {
            return Vec::new();
        }
        std::mem::take(&mut *self.pending.borrow_mut())
    }

    /// Env teardown: drops what is pending and ignores later collections.
    pub fn close(&self) {
        self.closing.set(true);
        drop(self.pending.take());
    }

    /// Ids waiting for delivery.
    pub fn pending(&self) -> usize {
        self.pending.try_borrow().map(|p| p.len()).unwrap_or(0)
    }
}

/// `trackGC`'s per-env state.
#[derive(Default)]
pub struct Tracker {
    batch: Batch,
    wake: Wake,
    refs: Refs,
    /// The env's JS `trackGC`, so a second evaluation of `index.js` in the
    /// same env gets the same one (and earlier registrations keep working).
    shared: RefCell<Option<(Env, UnknownRef)>>,
    registered: Cell<u64>,
    collected: Cell<u64>,
    cancelled: Cell<u64>,
}

impl Collector for Tracker {
    fn registered(&self) {
        self.registered.set(self.registered.get() + 1);
    }

    fn cancelled(&self) {
        self.cancelled.set(self.cancelled.get() + 1);
    }

    fn collected(&self, id: u32) -> bool {
        self.collected.set(self.collected.get() + 1);
        self.batch.collected(id)
    }

    fn wake_failed(&self) {
        self.batch.wake_failed();
    }

    fn take_due(&self) -> Vec<u32> {
        self.batch.take()
    }

    fn wake(&self) -> &Wake {
        &self.wake
    }

    fn refs(&self) -> &Refs {
        &self.refs
    }
}

/// Counters of one env's tracking (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackCounts {
    /// Registrations made.
    pub registered: u64,
    /// Finalizers run: targets collected (cancelled after collection or
    /// not) and, at env teardown, registrations still alive.
    pub collected: u64,
    /// Registrations removed by `cancel()` before their finalizer ran.
    pub cancelled: u64,
    /// Registrations whose target is alive, as far as this env knows
    /// (Node-API still holds their record).
    pub live: usize,
    /// Collected ids not yet handed to JS.
    pub pending: usize,
}

impl Tracker {
    /// Env cleanup hook: no JS, no wake-ups from now on. The registrations'
    /// references are left alone: Node-API's teardown of the env, which may
    /// come before or after this hook, runs their finalizers, which delete
    /// them (deleting them here would be a second delete).
    pub fn close(&self) {
        self.batch.close();
        self.wake.forget();
        if let Some((env, track_gc)) = self.shared.borrow_mut().take() {
            let _ = track_gc.unref(&env);
        }
    }

    /// The counters.
    pub fn counts(&self) -> TrackCounts {
        TrackCounts {
            registered: self.registered.get(),
            collected: self.collected.get(),
            cancelled: self.cancelled.get(),
            live: self.refs.live(),
            pending: self.batch.pending(),
        }
    }
}

/// The JS half's constructor: `create(register, unregister)` returns
/// `{ trackGC, deliver }`.
pub type Create<'env> = Function<'env, FnArgs<(Unknown<'env>, Unknown<'env>)>, Object<'env>>;

/// Process-wide leak figures: trackers alive (one per env not torn down
/// yet), and registrations whose reference was still alive when their
/// tracker was freed (what an ended env left behind; should be 0).
pub fn process_counts() -> (usize, usize) {
    (Refs::tables(), Refs::left_at_drop())
}

/// Returns this env's `trackGC` function, creating it on first use:
/// `create(register, unregister)` builds the JS half around the raw
/// `register(target, id)` and `unregister(id)` and returns
/// `{ trackGC, deliver }`.
pub fn setup<'env>(
    env: &'env Env,
    tracker: &Rc<Tracker>,
    create: Create<'env>,
) -> Result<Unknown<'env>> {
    if let Some((_, track_gc)) = tracker.shared.borrow().as_ref() {
        return track_gc.get_value(env);
    }
    let [register, unregister] = node_api::register_functions(env, tracker)?;
    let parts = create.call((register.to_unknown(), unregister.to_unknown()).into())?;
    let track_gc: Function<'env, Unknown<'env>, Unknown<'env>> =
        parts.get_named_property("trackGC")?;
    let deliver: Function<'env, Unknown<'env>, Unknown<'env>> =
        parts.get_named_property("deliver")?;
    tracker.wake.start(env, &deliver, tracker)?;
    let track_gc = track_gc.to_unknown();
    *tracker.shared.borrow_mut() = Some((*env, track_gc.create_ref()?));
    Ok(track_gc)
}

#[cfg(test)]
#[path = "track_tests.rs"]
mod tests;
