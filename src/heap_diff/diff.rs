//! Diff of two record sets and memwatch's formatting. Pure: plain data in,
//! plain data out.

use std::collections::HashMap;

use super::records::{is_unstable_id, Groups, Record, RecordSet};

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
    /// Nodes added by [`DiffBuilder::add_unresolved`], by provisional group.
    unresolved: Unresolved,
}

/// What [`DiffBuilder::add_unresolved`] gathered per provisional group
/// (groups below `PENDING_BIT` in `fixed`, the others in `pending` by slot).
#[derive(Default)]
struct Unresolved {
    /// The "before" groups' reported groups, copied when the first
    /// unresolved node comes (the table may grow while "after" is read).
    before_reported: Vec<u32>,
    fixed: Vec<Acc>,
    pending: Vec<Acc>,
    /// Nodes without a stable id: (count, bytes) per provisional group.
    keyed: HashMap<u32, (u64, i64)>,
    /// The "before" record after the last one matched.
    next: usize,
}

const PENDING_BIT: u32 = 1 << 31;

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
            unresolved: Unresolved::default(),
        }
    }

    /// A diff against `before` fed by [`DiffBuilder::add_unresolved`]:
    /// `groups` is the table `before` was read with (it may grow while
    /// "after" is read, but has no excluded group).
    pub fn new_unresolved(before: &'a RecordSet, groups: &Groups) -> Self {
        let mut b = DiffBuilder::new(before);
        b.unresolved.before_reported = (0..groups.len() as u32)
            .map(|g| groups.reported(g))
            .collect();
        b
    }

    /// One node of an "after" snapshot that is still being read and whose
    /// `group` may be provisional (a JSON snapshot names objects only at its
    /// end; provisional groups have the top bit set): matched by id now,
    /// grouped by [`DiffBuilder::finish_resolved`]. Nodes without a stable
    /// id are matched by name there, as [`DiffBuilder::add`] does.
    pub fn add_unresolved(&mut self, r: Record) {
        let u = &mut self.unresolved;
        self.after_nodes += 1;
        self.after_size += r.size;
        if is_unstable_id(r.id) {
            let k = u.keyed.entry(r.group).or_default();
            *k = (k.0 + 1, k.1 + r.size as i64);
            return;
        }
        let acc = if r.group & PENDING_BIT != 0 {
            slot(&mut u.pending, r.group & !PENDING_BIT)
        } else {
            slot(&mut u.fixed, r.group)
        };
        let b = &self.before.records;
        let reported = |g: u32| u.before_reported.get(g as usize).copied().unwrap_or(g);
        // V8 writes nodes in ascending id order, so the node after the last
        // match is almost always the next one; search only when it is not.
        let found = match b.get(u.next) {
            Some(x) if x.id == r.id => Ok(u.next),
            _ => b.binary_search_by_key(&r.id, |x| x.id),
        };
        if let Ok(i) = found {
            u.next = i + 1;
        }
        match found {
            Ok(i)
                if reported(b[i].group) == b[i].group
                    && self.seen[i / 64] & (1 << (i % 64)) == 0 =>
            {
                self.seen[i / 64] |= 1 << (i % 64);
                // The same object in both: its bytes move from its "before"
                // group to its "after" group (they cancel out when both are
                // the same group and the size did not change).
                acc.bytes += r.size as i64;
                let old = b[i];
                slot(&mut self.acc, reported(old.group)).bytes -= old.size as i64;
            }
            _ => {
                acc.added += 1;
                acc.bytes += r.size as i64;
                self.allocated += 1;
            }
        }
    }

    /// The diff, after every "after" node came through
    /// [`DiffBuilder::add_unresolved`]; `resolve` maps a provisional group
    /// to its group in `groups`.
    pub fn finish_resolved(
        mut self,
        groups: &Groups,
        after_time_ms: f64,
        resolve: impl Fn(u32) -> u32,
    ) -> Diff {
        let u = std::mem::take(&mut self.unresolved);
        let fixed = u.fixed.into_iter().enumerate().map(|(g, a)| (g as u32, a));
        let pending = (u.pending.into_iter().enumerate()).map(|(s, a)| (PENDING_BIT | s as u32, a));
        for (raw, a) in fixed.chain(pending) {
            let s = slot(&mut self.acc, groups.reported(resolve(raw)));
            s.bytes += a.bytes;
            s.added += a.added;
        }
        for (raw, (count, bytes)) in u.keyed {
            let k = &mut self.keyed.entry(resolve(raw)).or_default()[1];
            *k = (k.0 + count, k.1 + bytes);
        }
        self.finish(groups, after_time_ms)
    }

    /// One node of the "after" snapshot; records of excluded groups are
    /// ignored.
    pub fn add(&mut self, groups: &Groups, r: Record) {
        if groups.is_excluded(r.group) {
            return;
        }
        self.after_nodes += 1;
        self.after_size += r.size;
        if groups.is_keyed(r.group) {
            let k = &mut self.keyed.entry(r.group).or_default()[1];
            *k = (k.0 + 1, k.1 + r.size as i64);
            return;
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
            }
            _ => {
                let s = slot(&mut self.acc, groups.reported(r.group));
                s.added += 1;
                s.bytes += r.size as i64;
                self.allocated += 1;
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
