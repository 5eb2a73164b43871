//! The diff of two `.heapsnapshot` files (DevTools, `v8.writeHeapSnapshot()`,
//! `--heapsnapshot-near-heap-limit`), read as streams: "before" becomes a
//! sorted record set (16 bytes a node), "after" is diffed node by node while
//! it is read and never held. Peak memory is one file's records, whatever
//! the files' size.
//!
//! With retainer paths ([`diff_files_explained`], and the JSON source's
//! "after" capture, [`diff_explained`]) the "after" file's records and edges
//! are held instead (16 bytes a node, 9 an edge), then the string table is
//! read again for the names the printed paths need.

use std::fs::File;
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::diff::{Diff, DiffBuilder};
use super::json_source::{read_records, read_strings_at, read_with_graph, stream_records};
use super::records::{Groups, RecordSet};
use super::retainers;

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

/// [`diff_files`] with retainer paths for the groups `ask` picks: those
/// that grew most, or those it names ([`retainers::pick`]).
pub fn diff_files_explained(
    before: &Path,
    after: &Path,
    ask: &retainers::Ask,
) -> Result<Diff, String> {
    let (before_file, before_ms) = open(before)?;
    let (_, after_ms) = open(after)?;
    let mut groups = Groups::new(&[]);
    let records = read_records(before_file, &mut groups).map_err(|e| bad(before, &e.0))?;
    let set = RecordSet::new(records, &groups, before_ms);
    diff_explained(&set, &mut groups, after, after_ms, ask)
}

/// Reads a snapshot file into a record set (the JSON source's "before").
pub fn read_set(path: &Path, groups: &mut Groups, time_ms: f64) -> Result<RecordSet, String> {
    let records =
        read_records(open_file(path)?, groups).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(RecordSet::new(records, groups, time_ms))
}

/// Opens a snapshot file that is expected to be there (one the JSON source
/// just wrote).
fn open_file(path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| format!("cannot open heap snapshot {}: {e}", path.display()))
}

/// Diffs the snapshot file `after` against `before` and adds retainer
/// paths to the groups `ask` picks ([`retainers::pick`]). The file is read
/// twice: once whole (nodes, edges, the names that group nodes), then its
/// string table only, up to the last name the printed paths need.
pub fn diff_explained(
    before: &RecordSet,
    groups: &mut Groups,
    after: &Path,
    time_ms: f64,
    ask: &retainers::Ask,
) -> Result<Diff, String> {
    let read = read_with_graph(open_file(after)?, groups).map_err(|e| bad(after, &e.0))?;
    let mut builder = DiffBuilder::new(before);
    let mut new_nodes = Vec::new();
    for (i, &r) in read.records.iter().enumerate() {
        if builder.add(groups, r) {
            new_nodes.push((groups.reported(r.group), i as u32));
        }
    }
    drop(read.records);
    let mut d = builder.finish(groups, time_ms);
    let strings_at = read.strings_at;
    retainers::explain_compact(&read.graph, &mut d, groups, &new_nodes, ask, |want| {
        read_strings_at(open_file(after)?, strings_at, want).map_err(|e| bad(after, &e.0))
    })?;
    Ok(d)
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
        // Whole milliseconds, rounded as Node rounds `fs.Stats.mtime`.
        .map(|d| (d.as_micros() as f64 / 1000.0).round())
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
