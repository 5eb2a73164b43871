//! The environment variables memwatch-rs reads, parsed in one place.
//!
//! They are read from the process environment when the addon attaches to a
//! thread (worker threads see the process's variables, not a worker's own
//! `env` option). JS reads none itself: what it needs comes back from
//! `attach()`.

use std::ffi::OsStr;

/// `1`/`true`/`yes`: use the fallback backend even where V8's symbols resolve.
pub const FORCE_FALLBACK: &str = "MEMWATCH_FORCE_FALLBACK";
/// `1`/`true`/`yes`: Node's deferred finalizers instead of finalizers run
/// inside the GC (read once per thread, when Node loads the addon).
pub const DEFERRED_FINALIZERS: &str = "MEMWATCH_DEFERRED_FINALIZERS";
/// Comma-separated substrings of mangled names to treat as missing (tests the
/// fallbacks a missing symbol switches to, on a complete node binary).
pub const HIDE_SYMBOLS: &str = "MEMWATCH_HIDE_SYMBOLS";
/// `json`: HeapDiff reads `v8.writeHeapSnapshot()` files even where V8's heap
/// profiler is available (tests the JSON source).
pub const HEAPDIFF_SOURCE: &str = "MEMWATCH_HEAPDIFF_SOURCE";

/// Whether the variable `name` is set to `1`, `true` or `yes` (any case).
pub fn flag(name: &str) -> bool {
    is_on(std::env::var_os(name).as_deref())
}

/// The non-empty, comma-separated parts of the variable `name`.
pub fn list(name: &str) -> Vec<String> {
    split(std::env::var_os(name).as_deref())
}

/// The variable `name`, lower-cased, if set.
pub fn value(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().to_ascii_lowercase())
}

fn is_on(value: Option<&OsStr>) -> bool {
    value
        .and_then(OsStr::to_str)
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        .unwrap_or(false)
}

fn split(value: Option<&OsStr>) -> Vec<String> {
    value
        .map(|v| {
            v.to_string_lossy()
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_on_only_for_1_true_yes() {
        assert!(!is_on(None));
        for yes in ["1", "true", "TRUE", "yes", "Yes"] {
            assert!(is_on(Some(OsStr::new(yes))), "{yes}");
        }
        for no in ["", "0", "false", "no", "deferred", " 1"] {
            assert!(!is_on(Some(OsStr::new(no))), "{no:?}");
        }
    }

    #[test]
    fn lists_skip_empty_parts() {
        assert!(split(None).is_empty());
        assert_eq!(split(Some(OsStr::new("a,,b,"))), vec!["a", "b"]);
    }
}
