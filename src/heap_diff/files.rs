//! Diffs from `.heapsnapshot` files: the JSON source's "after" step with
//! retainer paths, and a whole diff of two files (what an offline analysis
//! runs; no V8, no N-API).

use std::fs::File;
use std::path::Path;

use super::diff::{diff, Diff, DiffBuilder};
use super::json_source;
use super::records::{Groups, RecordSet};
use super::retainers;

fn open(path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| format!("cannot open heap snapshot {}: {e}", path.display()))
}

/// Reads a snapshot file into a record set (the "before" side).
pub fn read_set(path: &Path, groups: &mut Groups, time_ms: f64) -> Result<RecordSet, String> {
    let records = json_source::read_records(open(path)?, groups)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(RecordSet::new(records, groups, time_ms))
}

/// Diffs the snapshot file `after` against `before` and adds up to `n`
/// retainer paths to each of the groups that grew most. The file is read
/// twice: once whole (nodes, edges, the names that group nodes), then only
/// its string table up to the last name the printed paths need.
pub fn diff_explained(
    before: &RecordSet,
    groups: &mut Groups,
    after: &Path,
    time_ms: f64,
    n: u32,
) -> Result<Diff, String> {
    let at = |e: json_source::JsonError| format!("{}: {e}", after.display());
    let read = json_source::read_with_graph(open(after)?, groups).map_err(at)?;
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
    retainers::explain_compact(&read.graph, &mut d, groups, &new_nodes, n, |want| {
        json_source::read_strings_at(open(after)?, strings_at, want).map_err(at)
    })?;
    Ok(d)
}

/// Diffs two snapshot files, with up to `retainers` paths per group that
/// grew most when given. Times are the files' modification times.
pub fn diff_files(before: &Path, after: &Path, retainers: Option<u32>) -> Result<Diff, String> {
    let mtime = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let mut groups = Groups::new(&[]);
    let set = read_set(before, &mut groups, mtime(before))?;
    match retainers {
        Some(n) => diff_explained(&set, &mut groups, after, mtime(after), n),
        None => {
            let other = read_set(after, &mut groups, mtime(after))?;
            Ok(diff(&set, &other, &groups))
        }
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
