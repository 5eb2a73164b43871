//! The raw Node-API boundary of `trackGC`'s hot paths.
//!
//! napi-rs wrappers cost about 100 ns per call, as much as the whole
//! registration, so the per-object path is hand-written here: a raw
//! `napi_callback` that attaches one `napi_add_finalizer` per target, one
//! that removes it again (`cancel`), the finalizer itself, and the
//! threadsafe-function callback that hands a batch of collected ids to JS.
//! Like the rest of [`crate::ffi`], this module decides no policy: it reports
//! to a [`Collector`] (implemented in safe code by `crate::track`) and does
//! what that says.
//!
//! # Ownership
//!
//! Every raw pointer handed to Node-API carries its own strong count of the
//! collector's `Rc`, released by whatever Node-API calls last with it:
//! * the `register` and `unregister` functions' `data`: released by a
//!   finalizer on each function object, which cannot run while the function
//!   can still be called;
//! * each registration's `finalize_hint`: released by that target's finalizer,
//!   or by `unregister` when it deletes the registration (then the finalizer
//!   never runs);
//! * the threadsafe function's `context`: released by its
//!   `thread_finalize_cb`, after which Node only calls `call_js` with a null
//!   env, where the context is not touched.
//!
//! So the collector outlives every use and is freed by the last of them,
//! whatever order Node tears an env down in.
//!
//! # The registrations' references
//!
//! `napi_add_finalizer` is given a `result`, so each registration's record in
//! Node (a `ReferenceWithFinalizer` and its weak handle) is ours to delete
//! rather than Node's. Its `napi_ref` sits in the collector's [`Refs`] under
//! the registration's id, and is deleted exactly once, by whichever of these
//! comes first, each of which takes it out of its slot before deleting it:
//! * `unregister(id)` (`cancel()` in JS): Node then never runs the finalizer
//!   (also when the target was already collected and, with deferred
//!   finalizers, its finalizer is queued: deleting the reference dequeues it)
//!   and frees its record;
//! * the finalizer: the target was collected, or the env is being torn down
//!   (Node-API's env teardown runs the finalizer of every reference still
//!   linked to the env, before the env is freed). Deleting a reference is a
//!   basic call, allowed inside the GC, and Node does not touch a
//!   user-owned reference after its finalizer returns.
//!
//! Both run with the env alive (a JS call, or Node calling the finalizer), so
//! nothing is ever deleted through a dead env, and nothing else deletes:
//! dropping a [`Refs`] leaves its slots alone (by then every slot is empty,
//! or the process is exiting without tearing its env down).
//!
//! # Finalizers run inside the GC
//!
//! [`node_api_module_get_api_version_v1`] declares `NAPI_VERSION_EXPERIMENTAL`
//! (unless deferred finalizers were asked for), so Node runs **every**
//! finalizer of this addon synchronously inside the GC. There, only "basic"
//! Node-API calls are allowed (those taking a `node_api_basic_env`:
//! references, threadsafe-function ref/unref, instance data, cleanup hooks,
//! external memory, version queries; plus `napi_call_threadsafe_function`,
//! which takes no env). Anything else aborts the process.

use std::cell::{Cell, RefCell};
use std::ffi::{c_void, CStr};
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use napi::bindgen_prelude::{FromNapiValue, Function, Unknown};
use napi::{sys, Env, Error, JsValue, Result, Status};

const OK: sys::napi_status = sys::Status::napi_ok;
/// `NAPI_AUTO_LENGTH` (`SIZE_MAX`) as napi-sys types it: read up to the NUL.
const NAPI_AUTO_LENGTH: isize = -1;

/// `NAPI_VERSION_EXPERIMENTAL`: the module version that makes Node run this
/// module's finalizers inside the GC.
pub const NAPI_VERSION_EXPERIMENTAL: i32 = i32::MAX;

/// The module version Node assumes for modules that declare none (napi-rs
/// modules included): finalizers are deferred to a later loop turn.
pub const NAPI_DEFAULT_MODULE_VERSION: i32 = 8;

/// Node-API module version of this addon, asked by Node once per env (main
/// thread and each worker) before `napi_register_module_v1`.
///
/// RULE: unless `MEMWATCH_DEFERRED_FINALIZERS=1` was set at load time, this
/// returns `NAPI_VERSION_EXPERIMENTAL`, and Node then runs *every* finalizer
/// of this addon inside the GC: `trackGC`'s, napi-rs's class finalizers of
/// every `#[napi]` class, external buffers and values, and any `Drop` that
/// runs from one of them. Such code may make only "basic" Node-API calls
/// (deleting references, ref/unref of threadsafe functions, calling a
/// threadsafe function, instance data, cleanup hooks, external memory);
/// no JS, no handles, no property access. A violation aborts the process
/// with "Finalizer is calling a function that may affect GC state".
///
/// Never return a version above the oldest supported Node's maximum other
/// than `NAPI_VERSION_EXPERIMENTAL`: Node 20 crashes on 10.
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    if crate::env_flags::flag(crate::env_flags::DEFERRED_FINALIZERS) {
        NAPI_DEFAULT_MODULE_VERSION
    } else {
        NAPI_VERSION_EXPERIMENTAL
    }
}

/// What the raw glue reports to. Implemented in safe code.
pub trait Collector: 'static {
    /// A registration was made (statistics only).
    fn registered(&self);
    /// A registration was deleted before its target was collected
    /// (statistics only).
    fn cancelled(&self);
    /// The finalizer of the target registered as `id` ran. May run inside
    /// the GC or during env teardown: no JS, no N-API, no blocking. Returns
    /// true for the first id of a batch: the glue then sends one wake-up.
    fn collected(&self, id: u32) -> bool;
    /// The wake-up for a batch could not be sent.
    fn wake_failed(&self);
    /// On the JS thread, in the wake-up: the ids due for delivery.
    fn take_due(&self) -> Vec<u32>;
    /// This env's wake-up.
    fn wake(&self) -> &Wake;
    /// This env's registrations' references.
    fn refs(&self) -> &Refs;
}

// Two diagnostic counters, the only process-wide values of the crate. They
// are not state: nothing reads them to decide anything; they let a test see,
// from the main thread, that ended workers' registrations were all finalized.

/// [`Refs`] tables alive in the process, one per env (for leak tests).
static TABLES: AtomicUsize = AtomicUsize::new(0);
/// References still alive when their table was dropped, all envs so far.
static LEFT_AT_DROP: AtomicUsize = AtomicUsize::new(0);

/// The `napi_ref` of each live registration, indexed by its id (8 bytes per
/// id); null once the registration was cancelled or its finalizer ran.
///
/// No borrow of `slots` is held across a call into Node-API or JS (nothing
/// here allocates on the JS heap), so a finalizer run inside the GC always
/// finds it free.
///
/// The process-wide figures for leak tests ([`Refs::tables`],
/// [`Refs::left_at_drop`]) are only touched when a table is made or dropped,
/// never per registration.
pub struct Refs {
    slots: RefCell<Vec<sys::napi_ref>>,
    live: Cell<usize>,
}

impl Default for Refs {
    fn default() -> Self {
        TABLES.fetch_add(1, Ordering::Relaxed);
        Refs {
            slots: RefCell::default(),
            live: Cell::new(0),
        }
    }
}

impl Drop for Refs {
    /// Deletes nothing (module docs): counts what would have leaked.
    fn drop(&mut self) {
        LEFT_AT_DROP.fetch_add(self.live.get(), Ordering::Relaxed);
        TABLES.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Refs {
    /// Keeps `reference` as registration `id`'s. False (and nothing kept)
    /// if `id` is still registered.
    fn store(&self, id: u32, reference: sys::napi_ref) -> bool {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return false;
        };
        let i = id as usize;
        if i >= slots.len() {
            slots.resize(i + 1, ptr::null_mut());
        }
        if !slots[i].is_null() {
            return false;
        }
        slots[i] = reference;
        self.live.set(self.live.get() + 1);
        true
    }

    /// Takes registration `id`'s reference out of its slot: non-null at most
    /// once per registration. The caller deletes it.
    fn take(&self, id: u32) -> sys::napi_ref {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return ptr::null_mut();
        };
        let Some(slot) = slots.get_mut(id as usize) else {
            return ptr::null_mut();
        };
        let reference = std::mem::replace(slot, ptr::null_mut());
        if !reference.is_null() {
            self.live.set(self.live.get() - 1);
        }
        reference
    }

    /// Registrations of this env whose reference is alive (neither collected
    /// nor cancelled).
    pub fn live(&self) -> usize {
        self.live.get()
    }

    /// Tables alive in the process: one per env whose tracker has not been
    /// freed. An ended worker's is freed once the last of its registrations
    /// is over (each holds a count of its tracker).
    pub fn tables() -> usize {
        TABLES.load(Ordering::Relaxed)
    }

    /// References that were still alive when their table was dropped, over
    /// all envs so far: registrations nobody deleted (should be 0).
    pub fn left_at_drop() -> usize {
        LEFT_AT_DROP.load(Ordering::Relaxed)
    }
}

/// One unref'd threadsafe function per env that calls the JS `deliver(ids)`.
/// It is ref'd while a batch is pending, so pending callbacks are delivered
/// before a natural exit, and never keeps the process alive otherwise.
pub struct Wake {
    tsfn: Cell<sys::napi_threadsafe_function>,
}

impl Default for Wake {
    fn default() -> Self {
        Wake {
            tsfn: Cell::new(ptr::null_mut()),
        }
    }
}

impl Wake {
    /// Whether [`start`](Self::start) succeeded and [`forget`](Self::forget)
    /// has not been called since.
    pub fn is_started(&self) -> bool {
        !self.tsfn.get().is_null()
    }

    /// Creates the threadsafe function that calls `deliver(Uint32Array)` on
    /// `env`'s thread, with `owner` as its context (one strong count, see the
    /// module docs).
    pub fn start<T: Collector>(
        &self,
        env: &Env,
        deliver: &Function<'_, Unknown<'_>, Unknown<'_>>,
        owner: &Rc<T>,
    ) -> Result<()> {
        if self.is_started() {
            return Err(Error::new(Status::GenericFailure, "already started"));
        }
        let env = env.raw();
        let mut name = ptr::null_mut();
        // SAFETY: `env` is the env of the running call; the name is a valid
        // UTF-8 C string, read up to its NUL.
        let st = unsafe {
            sys::napi_create_string_utf8(env, c"trackGC".as_ptr(), NAPI_AUTO_LENGTH, &mut name)
        };
        check(st, "napi_create_string_utf8")?;
        let context = Rc::into_raw(Rc::clone(owner)).cast_mut().cast::<c_void>();
        let mut tsfn = ptr::null_mut();
        // SAFETY: `deliver` is a live function handle of this env; `context`
        // carries a strong count that `release_context` gives back exactly
        // once, when Node finalizes the threadsafe function.
        let st = unsafe {
            sys::napi_create_threadsafe_function(
                env,
                deliver.raw(),
                ptr::null_mut(),
                name,
                0,
                1,
                context,
                Some(release_context::<T>),
                context,
                Some(call_js::<T>),
                &mut tsfn,
            )
        };
        if st != OK {
            // SAFETY: Node did not take the pointer: the count is still ours.
            unsafe { Rc::decrement_strong_count(context.cast::<T>()) };
            return check(st, "napi_create_threadsafe_function");
        }
        // SAFETY: `tsfn` was just created on this env's thread.
        let st = unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
        self.tsfn.set(tsfn);
        check(st, "napi_unref_threadsafe_function")
    }

    /// Env teardown has begun: Node closes the threadsafe function through
    /// its own cleanup hook; from now on it is not touched.
    pub fn forget(&self) {
        self.tsfn.set(ptr::null_mut());
    }

    /// Refs the function (a batch is pending) and queues one call. Basic
    /// calls only: used from finalizers. Returns false if nothing was sent.
    fn send(&self, env: sys::napi_env) -> bool {
        let tsfn = self.tsfn.get();
        if tsfn.is_null() {
            return false;
        }
        // SAFETY: `tsfn` is non-null only between `start` and `forget`, so
        // Node has not begun closing it; called on its env's thread. Both
        // calls are allowed inside the GC.
        let st = unsafe { sys::napi_ref_threadsafe_function(env, tsfn) };
        if st != OK {
            return false;
        }
        // SAFETY: as above; a non-blocking call never waits (the queue is
        // unbounded) and only touches the queue and the uv handle.
        let st = unsafe {
            sys::napi_call_threadsafe_function(
                tsfn,
                ptr::null_mut(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        st == OK
    }

    /// Unrefs the function again (the batch is being delivered).
    fn rest(&self, env: sys::napi_env) {
        let tsfn = self.tsfn.get();
        if !tsfn.is_null() {
            // SAFETY: live threadsafe function, called on its JS thread.
            unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
        }
    }
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == OK {
        Ok(())
    } else {
        Err(Error::new(
            Status::from(status),
            format!("{what} failed ({status})"),
        ))
    }
}

/// Creates the raw `register(target, id)` function, which attaches the
/// finalizer that reports `id` to `owner` once `target` has been collected,
/// and `unregister(id)`, which removes it again.
pub fn register_functions<'env, T: Collector>(
    env: &'env Env,
    owner: &Rc<T>,
) -> Result<[Function<'env, Unknown<'env>, Unknown<'env>>; 2]> {
    Ok([
        raw_function(env, owner, c"register", register::<T>)?,
        raw_function(env, owner, c"unregister", unregister::<T>)?,
    ])
}

/// A JS function calling `cb` with a strong count of `owner` as its data.
fn raw_function<'env, T: Collector>(
    env: &'env Env,
    owner: &Rc<T>,
    name: &CStr,
    cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
) -> Result<Function<'env, Unknown<'env>, Unknown<'env>>> {
    let raw_env = env.raw();
    let data = Rc::into_raw(Rc::clone(owner)).cast_mut().cast::<c_void>();
    let mut func = ptr::null_mut();
    // SAFETY: the name is NUL-terminated; `data` carries a strong count that
    // the finalizer added below gives back when the function is collected (or
    // at env teardown), so it is valid in every call of the function.
    let st = unsafe {
        sys::napi_create_function(
            raw_env,
            name.as_ptr(),
            NAPI_AUTO_LENGTH,
            Some(cb),
            data,
            &mut func,
        )
    };
    if st != OK {
        // SAFETY: Node did not take the pointer: the count is still ours.
        unsafe { Rc::decrement_strong_count(data.cast::<T>()) };
        check(st, "napi_create_function")?;
    }
    // SAFETY: `func` is the live function just created; `data` is released
    // exactly once, by `release_function_data`.
    let st = unsafe {
        sys::napi_add_finalizer(
            raw_env,
            func,
            data,
            Some(release_function_data::<T>),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if st != OK {
        // SAFETY: no finalizer was attached, so nothing else releases it; the
        // function is dropped unused (never handed to JS).
        unsafe { Rc::decrement_strong_count(data.cast::<T>()) };
        check(st, "napi_add_finalizer")?;
    }
    // SAFETY: `func` is a function handle of this env, valid in the current
    // handle scope, which `'env` (the running call) does not outlive.
    unsafe { Function::from_napi_value(raw_env, func) }
}

/// Finalizer of the `register` and `unregister` function objects: gives
/// back the function's count.
unsafe extern "C" fn release_function_data<T: Collector>(
    _env: sys::napi_env,
    data: *mut c_void,
    _hint: *mut c_void,
) {
    // SAFETY: `data` is the pointer from `Rc::into_raw` in `raw_function`,
    // whose count this finalizer owns; it runs once.
    drop(unsafe { Rc::from_raw(data.cast_const().cast::<T>()) });
}

/// Finalizer of the threadsafe function: gives back the context's count.
unsafe extern "C" fn release_context<T: Collector>(
    _env: sys::napi_env,
    data: *mut c_void,
    _hint: *mut c_void,
) {
    // SAFETY: `data` is the context pointer from `Rc::into_raw` in
    // `Wake::start`, whose count this finalizer owns; Node calls it once.
    drop(unsafe { Rc::from_raw(data.cast_const().cast::<T>()) });
}

/// This call's first `N` arguments (`undefined` where missing) and the
/// function's data, or `None` if Node-API failed or there is no data.
fn call_args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Option<([sys::napi_value; N], *mut c_void)> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    let mut data = ptr::null_mut();
    // SAFETY: `argv` has room for `argc` values; `info` is the running
    // call's, on its env.
    let st = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    };
    (st == OK && !data.is_null()).then_some((argv, data))
}

/// The id argument as a `u32`, or `None` after throwing a TypeError.
fn id_arg(env: sys::napi_env, value: sys::napi_value, what: &CStr) -> Option<u32> {
    let mut id = 0u32;
    // SAFETY: `value` is a handle of the running call.
    let st = unsafe { sys::napi_get_value_uint32(env, value, &mut id) };
    if st == OK {
        Some(id)
    } else {
        throw_type_error(env, what);
        None
    }
}

/// `register(target, id)`: the per-object hot path. JS has already checked
/// the arguments; a non-object target still gets a TypeError here.
unsafe extern "C" fn register<T: Collector>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let Some(([target, id], data)) = call_args::<2>(env, info) else {
        return ptr::null_mut();
    };
    let Some(id) = id_arg(env, id, c"register: id must be a uint32") else {
        return ptr::null_mut();
    };
    let owner_ptr = data.cast_const().cast::<T>();
    // SAFETY: `data` came from `Rc::into_raw` and the function's own count
    // keeps it alive during this call; the new count belongs to the
    // registration and is given back by `on_collected`, `unregister` or
    // (on failure) just below.
    unsafe { Rc::increment_strong_count(owner_ptr) };
    let mut reference = ptr::null_mut();
    // SAFETY: `target` is a handle of this call; the finalize data is the id
    // as an integer, never dereferenced; the hint holds the count above.
    // With a `result`, the reference is ours to delete (module docs).
    let st = unsafe {
        sys::napi_add_finalizer(
            env,
            target,
            ptr::without_provenance_mut(id as usize),
            Some(on_collected::<T>),
            data,
            &mut reference,
        )
    };
    if st != OK {
        // SAFETY: no finalizer was attached: the count taken above is ours.
        unsafe { Rc::decrement_strong_count(owner_ptr) };
        return throw_type_error(env, c"target must be an object or a function");
    }
    // SAFETY: alive through the function's count (see above).
    let owner = unsafe { &*owner_ptr };
    if !owner.refs().store(id, reference) {
        // The JS side reused an id that is still registered: undo this
        // registration (its finalizer then never runs) rather than lose track
        // of the other one.
        // SAFETY: `reference` was just created on this env and is deleted
        // only here.
        unsafe { sys::napi_delete_reference(env, reference) };
        // SAFETY: the finalizer holding the registration's count will never
        // run, so the count is ours to give back.
        unsafe { Rc::decrement_strong_count(owner_ptr) };
        return throw_type_error(env, c"register: id is in use");
    }
    owner.registered();
    ptr::null_mut()
}

/// `unregister(id)`: `cancel()`'s native half. Deletes registration `id`'s
/// reference if its finalizer has not run yet, so Node never runs it and
/// frees its record now. Returns whether it did: then the id is free at once;
/// otherwise (already collected, or already cancelled) nothing changes.
unsafe extern "C" fn unregister<T: Collector>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let Some(([id], data)) = call_args::<1>(env, info) else {
        return ptr::null_mut();
    };
    let Some(id) = id_arg(env, id, c"unregister: id must be a uint32") else {
        return ptr::null_mut();
    };
    let owner_ptr = data.cast_const().cast::<T>();
    // SAFETY: `data` came from `Rc::into_raw`; the function's own count keeps
    // it alive during this call.
    let owner = unsafe { &*owner_ptr };
    let reference = owner.refs().take(id);
    let mut deleted = false;
    if !reference.is_null() {
        // SAFETY: a reference in a slot is alive (module docs) and, taken out
        // of it, is deleted only here; this is a JS call, so the env is alive.
        // Nothing between `take` and here touches the JS heap, so no GC (and
        // no finalizer of this registration) can run in between.
        deleted = unsafe { sys::napi_delete_reference(env, reference) } == OK;
    }
    if deleted {
        owner.cancelled();
        // SAFETY: the finalizer that held the registration's count will never
        // run, so the count is ours to give back; the function's own count
        // keeps the collector alive past this.
        unsafe { Rc::decrement_strong_count(owner_ptr) };
    }
    let mut result = ptr::null_mut();
    // SAFETY: full env of the running call; `result` is a valid out-param.
    let st = unsafe { sys::napi_get_boolean(env, deleted, &mut result) };
    if st == OK {
        result
    } else {
        ptr::null_mut()
    }
}

fn throw_type_error(env: sys::napi_env, msg: &CStr) -> sys::napi_value {
    // SAFETY: `msg` is NUL-terminated; the exception is left pending for the
    // JS caller of the running callback.
    unsafe { sys::napi_throw_type_error(env, ptr::null(), msg.as_ptr()) };
    ptr::null_mut()
}

/// The finalizer of every tracked target: `data` is the id, `hint` the
/// registration's count of the collector. Runs inside the GC (basic calls
/// only) or, in deferred mode, later on the JS thread; and at env teardown,
/// for every registration still alive. It deletes the registration's
/// reference (the registration is over either way) and reports the id.
unsafe extern "C" fn on_collected<T: Collector>(
    env: sys::napi_env,
    data: *mut c_void,
    hint: *mut c_void,
) {
    // SAFETY: `hint` is the pointer whose count `register` took for this
    // registration; this finalizer runs once and gives the count back.
    let owner = unsafe { Rc::from_raw(hint.cast_const().cast::<T>()) };
    let id = data.addr() as u32;
    let reference = owner.refs().take(id);
    if !reference.is_null() {
        // SAFETY: the reference of the registration whose finalizer this is
        // (ids are reused only once their reference is gone), taken out of
        // its slot so deleted only here. A basic call, allowed inside the GC;
        // Node runs finalizers with the env alive (also at teardown) and does
        // not touch a user-owned reference after its finalizer returns.
        unsafe { sys::napi_delete_reference(env, reference) };
    }
    if owner.collected(id) && !owner.wake().send(env) {
        owner.wake_failed();
    }
}

/// Threadsafe-function callback: hands the due ids to `deliver(ids)`.
unsafe extern "C" fn call_js<T: Collector>(
    env: sys::napi_env,
    js_cb: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() || js_cb.is_null() {
        // The function is being torn down; the context may be gone.
        return;
    }
    // SAFETY: with a non-null env, Node has not finalized the threadsafe
    // function, so the context's own count (module docs) keeps it alive.
    let owner = unsafe { &*context.cast_const().cast::<T>() };
    owner.wake().rest(env);
    let ids = owner.take_due();
    if ids.is_empty() {
        return;
    }
    // Fails when the env can no longer run JS (teardown): the batch is dropped.
    let Some(array) = u32_array(env, &ids) else {
        return;
    };
    let mut undefined = ptr::null_mut();
    // SAFETY: full env on its JS thread, inside Node's handle scope.
    let st = unsafe { sys::napi_get_undefined(env, &mut undefined) };
    if st != OK {
        return;
    }
    // SAFETY: `js_cb` is the live `deliver` function. A throw stays pending
    // and Node reports it when this callback returns.
    unsafe { sys::napi_call_function(env, undefined, js_cb, 1, &array, ptr::null_mut()) };
}

/// A new `Uint32Array` holding `ids`.
fn u32_array(env: sys::napi_env, ids: &[u32]) -> Option<sys::napi_value> {
    let bytes = std::mem::size_of_val(ids);
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    // SAFETY: full env on its JS thread; the out-params are valid locals.
    let st = unsafe { sys::napi_create_arraybuffer(env, bytes, &mut data, &mut buffer) };
    if st != OK || (bytes > 0 && data.is_null()) {
        return None;
    }
    if bytes > 0 {
        // SAFETY: `data` points to `bytes` fresh writable bytes of the new
        // buffer, which cannot overlap `ids`; copied bytewise (no alignment
        // needed), before any JS can see the buffer.
        unsafe { ptr::copy_nonoverlapping(ids.as_ptr().cast::<u8>(), data.cast::<u8>(), bytes) };
    }
    let mut array = ptr::null_mut();
    // SAFETY: `buffer` is the live ArrayBuffer of `ids.len()` u32s.
    let st = unsafe {
        sys::napi_create_typedarray(
            env,
            sys::TypedarrayType::uint32_array,
            ids.len(),
            buffer,
            0,
            &mut array,
        )
    };
    (st == OK).then_some(array)
}
