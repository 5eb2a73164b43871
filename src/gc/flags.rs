//! One process-wide lock around V8 flag changes made from JS.
//!
//! V8's flags are global to the process, but every thread (main and each
//! worker) runs its own JS. The fallback backend gets V8's `gc` function by
//! setting `--expose-gc`, creating a context, and clearing the flag again
//! (`lib/fallback.js`); two threads doing that at once can clear the flag
//! under each other, and the context then has no `gc`. The lock makes the
//! three steps one. It is the crate's only process-wide state besides two
//! diagnostic counters, and it holds no data: V8's flags are the state.

use std::sync::Mutex;

static V8_FLAGS: Mutex<()> = Mutex::new(());

/// Runs `f` while holding a lock shared by every thread of the process. For
/// short, synchronous V8 flag changes only: other threads that want the lock
/// wait meanwhile.
pub fn with_v8_flags_lock<R>(f: impl FnOnce() -> R) -> R {
    // A panic cannot happen while the lock is held (only `f` runs), but a
    // poisoned lock would still guard nothing else: take it anyway.
    let _guard = V8_FLAGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f()
}
