//! Diff of two record sets and memwatch's formatting. Pure: plain data in,
//! plain data out.

use std::collections::HashMap;

use super::records::{Groups, Record, RecordSet};

/// Totals of one snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Nodes counted (the diff's own objects excluded).
    pub nodes: u64,
    /// Sum of their self sizes.
    pub size_bytes: u64,
    /// When the snapshot was taken, ms since the Unix epoch.
    pub time_ms: f64,
}

/// The change of one group between the snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// Group name: constructor name, or the node kind's name.
    pub what: String,
    /// Bytes of new nodes, minus bytes of freed nodes, plus the size change
    /// of nodes present in both.
    pub size_bytes: i64,
    /// New nodes (ids only in "after").
    pub added: u64,
    /// Freed nodes (ids only in "before").
    pub freed: u64,
    /// Why the new nodes are alive, when asked for and this group is one of
    /// those that grew most (see [`super::retainers`]).
    pub retainers: Option<Vec<RetainerPath>>,
}

/// One way sample new objects of a group are held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainerPath {
    /// From a root to the object, e.g. `global → app (Object) → cache (Map)
    /// → table → [17] (Session)`.
    pub path: String,
    /// How many of the group's sampled new objects are held this way.
    pub count: u64,
}

/// A whole diff, in memwatch's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub before: Summary,
    pub after: Summary,
    /// `after.size_bytes - before.size_bytes`; also the sum of the details.
    pub size_bytes: i64,
    pub freed_nodes: u64,
    pub allocated_nodes: u64,
    /// Groups that changed, largest absolute `size_bytes` first.
    pub details: Vec<Detail>,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    bytes: i64,
    added: u64,
    freed: u64,
}

fn slot(acc: &mut Vec<Acc>, g: u32) -> &mut Acc {
    let g = g as usize;
    if g >= acc.len() {
        acc.resize(g + 1, Acc::default());
    }
    &mut acc[g]
}

/// Matches the two censuses by object id and aggregates the change per
/// group. Records of keyed groups (nodes without a stable id) are matched by
/// count per keyed group instead.
pub fn diff(before: &RecordSet, after: &RecordSet, groups: &Groups) -> Diff {
    let mut b = DiffBuilder::new(before);
    for &r in &after.records {
        b.add(groups, r);
    }
    b.finish(groups, after.time_ms)
}

/// A diff fed the "after" nodes one by one, in any order, so a source can
/// diff while it reads instead of holding a second census. Each node is
/// looked up by id in the sorted "before" census; a bit per "before" record
/// remembers which were seen.
pub struct DiffBuilder<'a> {
    before: &'a RecordSet,
    seen: Vec<u64>,
    acc: Vec<Acc>,
    /// Per keyed group: (count, bytes) before and after.
    keyed: HashMap<u32, [(u64, i64); 2]>,
    allocated: u64,
    after_nodes: u64,
    after_size: u64,
}

impl<'a> DiffBuilder<'a> {
    /// A diff against `before` (sorted by id, as [`RecordSet::new`] leaves it).
    pub fn new(before: &'a RecordSet) -> Self {
        DiffBuilder {
            before,
            seen: vec![0; before.records.len().div_ceil(64)],
            acc: Vec::new(),
            keyed: HashMap::new(),
            allocated: 0,
            after_nodes: 0,
            after_size: 0,
        }
    }

    /// One node of the "after" snapshot; records of excluded groups are
    /// ignored. True if the node is new, known by its id (nodes of keyed
    /// groups, counted by name, never are).
    pub fn add(&mut self, groups: &Groups, r: Record) -> bool {
        if groups.is_excluded(r.group) {
            return false;
        }
        self.after_nodes += 1;
        self.after_size += r.size;
        if groups.is_keyed(r.group) {
            let k = &mut self.keyed.entry(r.group).or_default()[1];
            *k = (k.0 + 1, k.1 + r.size as i64);
            return false;
        }
        let b = &self.before.records;
        match b.binary_search_by_key(&r.id, |x| x.id) {
            Ok(i) if !groups.is_keyed(b[i].group) && self.seen[i / 64] & (1 << (i % 64)) == 0 => {
                self.seen[i / 64] |= 1 << (i % 64);
                // The same object in both: only its size may have changed
                // (and, rarely, its group, e.g. after a prototype change).
                let old = b[i];
                if old.size != r.size || old.group != r.group {
                    slot(&mut self.acc, groups.reported(old.group)).bytes -= old.size as i64;
                    slot(&mut self.acc, groups.reported(r.group)).bytes += r.size as i64;
                }
                false
            }
            _ => {
                let s = slot(&mut self.acc, groups.reported(r.group));
                s.added += 1;
                s.bytes += r.size as i64;
                self.allocated += 1;
                true
            }
        }
    }

    /// The diff, with "after" taken at `after_time_ms`.
    pub fn finish(mut self, groups: &Groups, after_time_ms: f64) -> Diff {
        let mut freed_nodes = 0u64;
        for (i, r) in self.before.records.iter().enumerate() {
            if groups.is_keyed(r.group) {
                let k = &mut self.keyed.entry(r.group).or_default()[0];
                *k = (k.0 + 1, k.1 + r.size as i64);
            } else if self.seen[i / 64] & (1 << (i % 64)) == 0 {
                let s = slot(&mut self.acc, groups.reported(r.group));
                s.freed += 1;
                s.bytes -= r.size as i64;
                freed_nodes += 1;
            }
        }
        let mut allocated_nodes = self.allocated;
        for (g, [(nb, sb), (na, sa)]) in std::mem::take(&mut self.keyed) {
            let s = slot(&mut self.acc, groups.reported(g));
            s.bytes += sa - sb;
            s.added += na.saturating_sub(nb);
            s.freed += nb.saturating_sub(na);
            allocated_nodes += na.saturating_sub(nb);
            freed_nodes += nb.saturating_sub(na);
        }
        let mut details: Vec<Detail> = self
            .acc
            .iter()
            .enumerate()
            .filter(|(_, s)| s.added > 0 || s.freed > 0 || s.bytes != 0)
            .map(|(g, s)| Detail {
                what: groups.name(g as u32).to_owned(),
                size_bytes: s.bytes,
                added: s.added,
                freed: s.freed,
                retainers: None,
            })
            .collect();
        details.sort_by(|x, y| {
            y.size_bytes
                .unsigned_abs()
                .cmp(&x.size_bytes.unsigned_abs())
                .then((y.added + y.freed).cmp(&(x.added + x.freed)))
                .then_with(|| x.what.cmp(&y.what))
        });
        let before = self.before;
        Diff {
            before: Summary {
                nodes: before.records.len() as u64,
                size_bytes: before.size,
                time_ms: before.time_ms,
            },
            after: Summary {
                nodes: self.after_nodes,
                size_bytes: self.after_size,
                time_ms: after_time_ms,
            },
            size_bytes: self.after_size as i64 - before.size as i64,
            freed_nodes,
            allocated_nodes,
            details,
        }
    }
}

/// memwatch's human size: over 1 MiB `"x.xx mb"`, over 1 KiB `"x.xx kb"`,
/// else `"N bytes"`; 1024-based, keeps the sign. Two decimals rounded half
/// away from zero in exact integer arithmetic, so the string always equals
/// what JS's `(bytes / unit).toFixed(2)` gives for the same `size_bytes`.
pub fn nice_size(bytes: i64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    let abs = bytes.unsigned_abs();
    let (unit, suffix) = if abs > MIB {
        (MIB, "mb")
    } else if abs > KIB {
        (KIB, "kb")
    } else {
        return format!("{bytes} bytes");
    };
    // hundredths = round(abs * 100 / unit), ties away from zero.
    let hundredths = (u128::from(abs) * 200 + u128::from(unit)) / (2 * u128::from(unit));
    let sign = if bytes < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02} {suffix}",
        hundredths / 100,
        hundredths % 100
    )
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
