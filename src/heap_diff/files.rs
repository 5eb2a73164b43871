//! The diff of two `.heapsnapshot` files (DevTools, `v8.writeHeapSnapshot()`,
//! `--heapsnapshot-near-heap-limit`), read as streams: "before" becomes a
//! sorted record set (16 bytes a node), "after" is diffed node by node while
//! it is read and never held. Peak memory is one file's records, whatever
//! the files' size.

use std::fs::File;
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::diff::{Diff, DiffBuilder};
use super::json_source::{read_records, stream_records};
use super::records::{Groups, RecordSet};

/// Diffs the snapshot files `before` and `after` by object id. Each
/// snapshot's time is its file's modification time. The error is one line
/// that names the file and says what is wrong with it.
pub fn diff_files(before: &Path, after: &Path) -> Result<Diff, String> {
    let (before_file, before_ms) = open(before)?;
    let (after_file, after_ms) = open(after)?;
    let mut groups = Groups::new(&[]);
    let records = read_records(before_file, &mut groups).map_err(|e| bad(before, &e.0))?;
    let set = RecordSet::new(records, &groups, before_ms);
    let mut builder = DiffBuilder::new_unresolved(&set, &groups);
    let names = stream_records(after_file, &mut groups, |r| builder.add_unresolved(r))
        .map_err(|e| bad(after, &e.0))?;
    Ok(builder.finish_resolved(&groups, after_ms, |raw| names.group(raw)))
}

/// Opens a snapshot file, with its modification time (ms since the epoch).
fn open(path: &Path) -> Result<(File, f64), String> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{name}: no such file"),
        _ => format!("{name}: cannot read: {e}"),
    })?;
    if meta.is_dir() {
        return Err(format!("{name}: is a directory, not a heap snapshot file"));
    }
    if meta.len() == 0 {
        return Err(format!("{name}: empty file, not a heap snapshot"));
    }
    let file = File::open(path).map_err(|e| format!("{name}: cannot open: {e}"))?;
    let time_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    Ok((file, time_ms))
}

/// The one-line message for a file the reader rejected.
fn bad(path: &Path, reason: &str) -> String {
    let reason = reason.strip_prefix("heap snapshot: ").unwrap_or(reason);
    let what = if reason.contains("unexpected end of input") || reason.contains("unterminated") {
        "truncated heap snapshot"
    } else {
        "not a valid V8 heap snapshot"
    };
    format!("{}: {what}: {reason}", path.display())
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
