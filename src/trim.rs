//! Handing freed memory back to the OS a little later: what V8 frees after
//! a heap snapshot or a census stays with the C allocator (glibc keeps it)
//! until a `malloc_trim`, and trimming at once would make the next snapshot
//! or census fault it all back in. Used by HeapDiff sessions and censuses.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::ffi::malloc_trim;

/// How long after the first snapshot of a HeapDiff its leftover memory is
/// handed back to the OS if the diff has not ended by then, and how long
/// after the last census what V8's reachability filter freed is.
///
/// A deleted heap snapshot leaves its memory (over a gigabyte for a million
/// objects) free but held by the C allocator. Trimming right away would keep
/// the process small between the snapshots (and the peak ~2% lower) but
/// makes the second snapshot fault all that memory back in: measured +20%
/// time for a 1M-object heap. A diff ended within the delay (tests,
/// leak-test loops) pays nothing; a long-running one holds the memory for
/// this long only. After the last snapshot it is trimmed at once.
pub(crate) const TRIM_DELAY: Duration = Duration::from_millis(1000);

/// A `malloc_trim` on a helper thread after a delay, cancelled when dropped
/// (the thread then exits without trimming).
pub(crate) struct DeferredTrim {
    cancelled: Arc<(Mutex<bool>, Condvar)>,
}

impl DeferredTrim {
    pub(crate) fn after(delay: Duration) -> Option<DeferredTrim> {
        let cancelled = Arc::new((Mutex::new(false), Condvar::new()));
        let theirs = Arc::clone(&cancelled);
        std::thread::Builder::new()
            .name("memwatch-trim".into())
            .spawn(move || {
                let (flag, wake) = &*theirs;
                let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
                let (guard, _) = wake
                    .wait_timeout_while(guard, delay, |cancelled| !*cancelled)
                    .unwrap_or_else(|e| e.into_inner());
                if !*guard {
                    drop(guard);
                    malloc_trim();
                }
            })
            .ok()?;
        Some(DeferredTrim { cancelled })
    }
}

impl Drop for DeferredTrim {
    fn drop(&mut self) {
        let (flag, wake) = &*self.cancelled;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_one();
    }
}
