//! One process-wide lock around V8 flag changes made from JS.
//!
//! V8's flags are global to the process, but every thread (main and each
//! worker) runs its own JS. The fallback backend gets V8's `gc` function by
//! setting `--expose-gc`, creating a context, and clearing the flag again
//! (`fallback.js`); two threads doing that at once can clear the flag under
//! each other, and the context then has no `gc`. The lock makes the three
//! steps one.

use std::sync::Mutex;

use napi::bindgen_prelude::{Function, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

static V8_FLAGS: Mutex<()> = Mutex::new(());

/// Calls `f()` while holding a lock shared by every thread of the process,
/// and returns its result. For short, synchronous V8 flag changes only: other
/// threads that want the lock wait meanwhile.
#[napi(ts_args_type = "f: () => unknown", ts_return_type = "unknown")]
pub fn with_v8_flags_lock<'env>(
    _env: &'env Env,
    f: Function<'env, (), Unknown<'env>>,
) -> Result<Unknown<'env>> {
    // A panic cannot happen while the lock is held (only the JS call runs),
    // but a poisoned lock would still guard nothing else: take it anyway.
    let _guard = V8_FLAGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f.call(())
}
