//! One HeapDiff between its two snapshots: the "before" records, the group
//! table, the temporary snapshot files of the JSON source, and the deferred
//! hand-back of a deleted snapshot's memory. No N-API: the caller takes the
//! snapshots (with their GCs kept out of `stats`) and accounts the memory.

use std::path::Path;
use std::rc::Rc;

use super::diff::{diff, Diff, DiffBuilder};
use super::records::{Groups, Record, RecordSet};
use super::retainers::Ask;
use super::v8_source::Sink;
use super::{files, Live, OWN_CLASSES};
use crate::ffi::malloc_trim;
use crate::trim::{DeferredTrim, TRIM_DELAY};

enum Phase {
    Fresh,
    Before(RecordSet),
    Ended,
}

/// What a capture produced.
pub enum Captured {
    /// The "before" snapshot is recorded.
    Before,
    /// The "after" snapshot, diffed against "before".
    Diff(Diff),
}

/// The native state of one HeapDiff.
pub struct Session {
    groups: Groups,
    phase: Phase,
    json_started_ms: Option<f64>,
    live: LiveToken,
    trim_later: Option<DeferredTrim>,
    temp_files: TempFiles,
}

/// The message of every call on an ended session.
pub const ENDED: &str = "this HeapDiff has already ended";

impl Session {
    /// A session counted in `live`; it takes no snapshot yet.
    pub fn new(live: Rc<Live>) -> Session {
        Session {
            groups: Groups::new(&OWN_CLASSES),
            phase: Phase::Fresh,
            json_started_ms: None,
            live: LiveToken::new(live),
            trim_later: None,
            temp_files: TempFiles::default(),
        }
    }

    /// An error if the session has ended.
    pub fn check_open(&self) -> Result<(), String> {
        match self.phase {
            Phase::Ended => Err(ENDED.into()),
            _ => Ok(()),
        }
    }

    /// Bytes this session holds in records and group names (reported to V8
    /// as external memory by the caller).
    pub fn held_bytes(&self) -> i64 {
        self.live.bytes
    }

    /// Takes the next snapshot in process: `take(groups, sink)` takes a V8
    /// snapshot and hands every node to `sink`, returning `None` if V8 gave
    /// none. The first capture records "before", the second diffs "after"
    /// against it while reading (no second record set next to the snapshot).
    pub fn capture_v8(
        &mut self,
        time_ms: f64,
        take: impl FnOnce(&mut Groups, &mut dyn Sink) -> Option<usize>,
    ) -> Result<Captured, String> {
        let no_snapshot = || String::from("V8 returned no heap snapshot");
        match std::mem::replace(&mut self.phase, Phase::Ended) {
            Phase::Fresh => {
                let mut records: Vec<Record> = Vec::new();
                if take(&mut self.groups, &mut records).is_none() {
                    self.phase = Phase::Fresh;
                    return Err(no_snapshot());
                }
                self.keep_before(RecordSet::new(records, &self.groups, time_ms));
                Ok(Captured::Before)
            }
            Phase::Before(before) => {
                self.trim_later = None;
                let mut builder = DiffBuilder::new(&before);
                let taken = take(&mut self.groups, &mut builder);
                malloc_trim();
                if taken.is_none() {
                    self.phase = Phase::Before(before);
                    return Err(no_snapshot());
                }
                let d = builder.finish(&self.groups, time_ms);
                drop(before);
                Ok(self.ended(d))
            }
            Phase::Ended => Err(ENDED.into()),
        }
    }

    /// The "after" capture with retainer paths, in process: `take(groups,
    /// before)` takes the V8 snapshot and returns the explained diff.
    pub fn capture_v8_explained(
        &mut self,
        take: impl FnOnce(&mut Groups, &RecordSet) -> Result<Diff, String>,
    ) -> Result<Captured, String> {
        match std::mem::replace(&mut self.phase, Phase::Ended) {
            Phase::Before(before) => {
                self.trim_later = None;
                let taken = take(&mut self.groups, &before);
                malloc_trim();
                match taken {
                    Ok(d) => {
                        drop(before);
                        Ok(self.ended(d))
                    }
                    Err(e) => {
                        self.phase = Phase::Before(before);
                        Err(e)
                    }
                }
            }
            Phase::Fresh => {
                self.phase = Phase::Fresh;
                Err("this HeapDiff has no first snapshot".into())
            }
            Phase::Ended => Err(ENDED.into()),
        }
    }

    /// The two snapshot file names for `base`, made in Rust so that JS gets
    /// flat strings (a concatenated JS string would be flattened, that is
    /// replaced, while the first snapshot holds it, and show up in the diff).
    /// The session deletes whatever is left of them when it is dropped.
    pub fn json_files(&mut self, base: &str) -> [String; 2] {
        let files = [
            format!("{base}-before.heapsnapshot"),
            format!("{base}-after.heapsnapshot"),
        ];
        self.temp_files.0.extend(files.iter().cloned());
        files
    }

    /// Right before `v8.writeHeapSnapshot()`: notes the time.
    pub fn begin_json(&mut self, now_ms: f64) -> Result<(), String> {
        self.check_open()?;
        self.trim_later = None;
        self.json_started_ms = Some(now_ms);
        Ok(())
    }

    /// Reads the snapshot written at `path` and deletes the file: the first
    /// call records "before", the second diffs (with the retainer paths
    /// `retainers` asks for, when given).
    pub fn capture_json(
        &mut self,
        path: &str,
        now_ms: f64,
        retainers: Option<&Ask>,
    ) -> Result<Captured, String> {
        let time = self.json_started_ms.take().unwrap_or(now_ms);
        if let (Some(ask), Phase::Before(_)) = (retainers, &self.phase) {
            let Phase::Before(before) = std::mem::replace(&mut self.phase, Phase::Ended) else {
                unreachable!()
            };
            let explained =
                files::diff_explained(&before, &mut self.groups, Path::new(path), time, ask);
            self.temp_files.remove(path);
            drop(before);
            malloc_trim();
            return match explained {
                Ok(d) => Ok(self.ended(d)),
                Err(e) => {
                    // "before" is gone: nothing of this session needs ids.
                    self.live.set_open(false);
                    Err(e)
                }
            };
        }
        let read = self
            .check_open()
            .and_then(|()| files::read_set(Path::new(path), &mut self.groups, time));
        self.temp_files.remove(path);
        let set = read?;
        match std::mem::replace(&mut self.phase, Phase::Ended) {
            Phase::Fresh => {
                self.keep_before(set);
                Ok(Captured::Before)
            }
            Phase::Before(before) => {
                let d = diff(&before, &set, &self.groups);
                drop(before);
                drop(set);
                malloc_trim();
                Ok(self.ended(d))
            }
            Phase::Ended => Err(ENDED.into()),
        }
    }

    /// Ends a `begin_json` whose snapshot was not written; deletes `path` if
    /// it exists.
    pub fn abort_json(&mut self, path: &str) {
        self.json_started_ms = None;
        self.temp_files.remove(path);
    }

    fn keep_before(&mut self, set: RecordSet) {
        let bytes = (set.heap_bytes() + self.groups.heap_bytes()) as i64;
        self.phase = Phase::Before(set);
        self.live.set_bytes(bytes);
        self.live.set_open(true);
        self.trim_later = DeferredTrim::after(TRIM_DELAY);
    }

    fn ended(&mut self, d: Diff) -> Captured {
        self.phase = Phase::Ended;
        self.groups = Groups::new(&[]);
        self.live.set_bytes(0);
        self.live.set_open(false);
        Captured::Diff(d)
    }
}

/// Counts one session and its bytes in the isolate's [`Live`] while it
/// exists.
struct LiveToken {
    live: Rc<Live>,
    bytes: i64,
    open: bool,
}

impl LiveToken {
    fn new(live: Rc<Live>) -> Self {
        live.count.set(live.count.get() + 1);
        LiveToken {
            live,
            bytes: 0,
            open: false,
        }
    }

    /// Counts this session in `Live::open` while it holds "before".
    fn set_open(&mut self, open: bool) {
        if open != self.open {
            let o = &self.live.open;
            o.set(if open {
                o.get() + 1
            } else {
                o.get().saturating_sub(1)
            });
            self.open = open;
        }
    }

    fn set_bytes(&mut self, bytes: i64) {
        let l = &self.live.bytes;
        l.set(l.get() - self.bytes + bytes);
        self.bytes = bytes;
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.set_bytes(0);
        self.set_open(false);
        let c = &self.live.count;
        c.set(c.get().saturating_sub(1));
    }
}

/// Snapshot files handed out by [`Session::json_files`] and not deleted
/// yet. Whatever is left when the session is dropped (its thread was
/// terminated while a snapshot was being written or read, or it was
/// collected un-ended) is deleted then, so no snapshot stays behind in the
/// temporary directory. Plain file I/O: allowed in a finalizer run inside
/// the GC.
#[derive(Default)]
struct TempFiles(Vec<String>);

impl TempFiles {
    /// Deletes `path` (if it exists) and forgets it.
    fn remove(&mut self, path: &str) {
        let _ = std::fs::remove_file(path);
        self.0.retain(|p| p != path);
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
