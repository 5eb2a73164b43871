//! The only module allowed `unsafe`: every call into V8's C++ API and into
//! raw Node-API lives here, each `unsafe` block with a `// SAFETY:` note.
//!
//! Node exports V8's C++ API from its own binary. N-API has no GC callbacks,
//! heap statistics or heap profiler, so the few mangled symbols memwatch-rs
//! needs are resolved with `dlsym` at runtime (no C++ compiler, no headers)
//! and each is wrapped in a safe function. Itanium C++ ABI: a member function
//! is a plain function whose first argument is `this`, enums are `int`.
//!
//! Rules: this module decides no policy; a missing symbol or an unverified
//! Node major is reported as an error so the caller can fall back instead of
//! crashing; nothing here imports the rest of the crate except plain data
//! types.
//!
//! - [`table`]: which symbols and struct layouts each verified Node major uses;
//! - [`gc`]: GC callbacks, heap statistics, forced GCs;
//! - [`heap_profiler`]: heap snapshots, their nodes and edges;
//! - [`sampling`]: the sampling heap profiler (allocation sites);
//! - [`census`]: a heap census (counts and sizes by constructor) without a
//!   snapshot;
//! - [`track_gc`]: `trackGC`'s raw Node-API hot path, finalizers and wake-up.

#![allow(unsafe_code)]

use std::ffi::{c_int, c_void, CStr};
use std::ptr::NonNull;

pub use table::{layout_for, CensusLayout, Layout, VERIFIED_MAJORS};

/// A symbol that the running node binary does not export.
#[derive(Debug, Clone)]
pub struct Missing(pub String);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(unix)]
extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const std::ffi::c_char) -> *mut c_void;
}

#[cfg(target_os = "macos")]
const RTLD_DEFAULT: *mut c_void = -2isize as *mut c_void;
#[cfg(all(unix, not(target_os = "macos")))]
const RTLD_DEFAULT: *mut c_void = std::ptr::null_mut();

/// Looks a symbol up in the global scope of the process (the node binary).
fn lookup(name: &CStr) -> Result<NonNull<c_void>, Missing> {
    if hidden(name) {
        return Err(Missing(name.to_string_lossy().into_owned()));
    }
    #[cfg(unix)]
    {
        // SAFETY: `dlsym` only reads the NUL-terminated `name`; RTLD_DEFAULT is
        // the documented pseudo-handle for the global symbol scope.
        let p = unsafe { dlsym(RTLD_DEFAULT, name.as_ptr()) };
        NonNull::new(p).ok_or_else(|| Missing(name.to_string_lossy().into_owned()))
    }
    #[cfg(not(unix))]
    {
        Err(Missing(name.to_string_lossy().into_owned()))
    }
}

/// Fault injection for tests: `MEMWATCH_HIDE_SYMBOLS` lists comma-separated
/// substrings of mangled names to treat as missing, so the fallbacks a
/// missing symbol switches to can be exercised on a complete node binary.
fn hidden(name: &CStr) -> bool {
    let name = name.to_string_lossy();
    crate::env_flags::list(crate::env_flags::HIDE_SYMBOLS)
        .iter()
        .any(|part| name.contains(part.as_str()))
}

/// Resolves `name` and reinterprets it as the function pointer type `F`.
///
/// # Safety
/// `F` must be an `extern "C"` function pointer type whose signature matches
/// the C++ declaration the mangled `name` encodes.
pub(crate) unsafe fn resolve<F: Copy>(name: &CStr) -> Result<F, Missing> {
    const { assert!(std::mem::size_of::<F>() == std::mem::size_of::<*mut c_void>()) };
    let p = lookup(name)?;
    // SAFETY: the caller guarantees `F` is a function pointer type matching the
    // symbol's signature; function and data pointers have the same size here
    // (asserted above).
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p.as_ptr()) })
}

/// Resolves a mangled name into the function-pointer type of the field or
/// binding it initialises.
macro_rules! symbol {
    ($name:literal) => {{
        let name: &CStr = match CStr::from_bytes_with_nul(concat!($name, "\0").as_bytes()) {
            Ok(name) => name,
            Err(_) => unreachable!(),
        };
        // SAFETY: every use initialises a field or binding whose declared type
        // is the `extern "C"` function pointer matching the C++ declaration
        // that `$name` mangles (documented at each type alias below).
        unsafe { resolve(name) }?
    }};
}

pub mod census;
pub mod gc;
pub mod heap_profiler;
pub mod sampling;
pub mod table;
pub mod track_gc;

// glibc's `int malloc_trim(size_t pad)`
type MallocTrimFn = unsafe extern "C" fn(usize) -> c_int;

/// Returns free heap memory to the OS if the C library can (glibc's
/// `malloc_trim`, looked up at runtime); false when it is not available.
pub fn malloc_trim() -> bool {
    // SAFETY: `malloc_trim` has this signature in glibc; other C libraries
    // do not export it and the lookup fails.
    match unsafe { resolve::<MallocTrimFn>(c"malloc_trim") } {
        // SAFETY: `malloc_trim` only walks the allocator's own free lists.
        Ok(trim) => unsafe { trim(0) != 0 },
        Err(_) => false,
    }
}

// libuv's `uint64_t uv_get_available_memory(void)` (libuv 1.45, Node 20.3)
type AvailableMemoryFn = unsafe extern "C" fn() -> u64;

/// Memory still available to the process, bytes, as libuv sees it (the
/// cgroup's limit less its usage where one is set, else the system's free
/// memory); `None` where node does not export it or libuv cannot tell.
pub fn available_memory() -> Option<u64> {
    // SAFETY: `uv_get_available_memory` has this signature in every libuv
    // that exports it (it takes nothing and returns a uint64_t).
    let f = unsafe { resolve::<AvailableMemoryFn>(c"uv_get_available_memory") }.ok()?;
    // SAFETY: it only reads /proc and cgroup files (or asks the OS) and
    // returns a number; it keeps no state and is safe on any thread.
    let bytes = unsafe { f() };
    (bytes > 0).then_some(bytes)
}
