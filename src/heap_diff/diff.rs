//! Diff of two censuses and memwatch's formatting. Pure: plain data in,
//! plain data out.

use std::collections::HashMap;

use super::records::{Census, Groups, Record};

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
pub fn diff(before: &Census, after: &Census, groups: &Groups) -> Diff {
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
    before: &'a Census,
    seen: Vec<u64>,
    acc: Vec<Acc>,
    /// Per keyed group: (count, bytes) before and after.
    keyed: HashMap<u32, [(u64, i64); 2]>,
    allocated: u64,
    after_nodes: u64,
    after_size: u64,
}

impl<'a> DiffBuilder<'a> {
    /// A diff against `before` (sorted by id, as [`Census::new`] leaves it).
    pub fn new(before: &'a Census) -> Self {
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
mod tests {
    use super::*;

    fn census(groups: &Groups, records: &[(u32, u32, u64)], t: f64) -> Census {
        Census::new(
            records
                .iter()
                .map(|&(id, group, size)| Record { id, group, size })
                .collect(),
            groups,
            t,
        )
    }

    #[test]
    fn nice_size_matches_memwatch() {
        assert_eq!(nice_size(0), "0 bytes");
        assert_eq!(nice_size(1024), "1024 bytes");
        assert_eq!(nice_size(1025), "1.00 kb");
        assert_eq!(nice_size(-1536), "-1.50 kb");
        assert_eq!(nice_size(1024 * 1024), "1024.00 kb");
        // 34.625 KiB is an exact tie: JS toFixed(2) rounds it up, and so do we.
        assert_eq!(nice_size(35456), "34.63 kb");
        assert_eq!(nice_size(-35456), "-34.63 kb");
        assert_eq!(nice_size(1024 + 5), "1.00 kb");
        assert_eq!(nice_size(1024 + 6), "1.01 kb");
        assert_eq!(nice_size(1024 * 1024 + 1), "1.00 mb");
        assert_eq!(nice_size(-5 * 1024 * 1024 - 1024 * 1024 / 2), "-5.50 mb");
        assert_eq!(nice_size(3 * 1024 * 1024 * 1024), "3072.00 mb");
        assert_eq!(nice_size(-7), "-7 bytes");
    }

    #[test]
    fn counts_new_and_freed_by_id_per_group() {
        let mut g = Groups::new(&[]);
        let foo = g.intern(b"Foo");
        let bar = g.intern(b"Bar");
        let s = g.for_kind(super::super::records::kind::STRING);
        // ids 1,3 survive; 5 (Foo) and 7 (String) are freed; 9, 11 (Foo) and
        // 13 (Bar) are new.
        let before = census(
            &g,
            &[(5, foo, 24), (1, foo, 24), (3, bar, 16), (7, s, 40)],
            1.0,
        );
        let after = census(
            &g,
            &[
                (1, foo, 24),
                (3, bar, 16),
                (9, foo, 24),
                (11, foo, 24),
                (13, bar, 32),
            ],
            2.0,
        );
        let d = diff(&before, &after, &g);
        assert_eq!(d.before.nodes, 4);
        assert_eq!(d.before.size_bytes, 104);
        assert_eq!(d.after.nodes, 5);
        assert_eq!(d.after.size_bytes, 120);
        assert_eq!(d.after.time_ms, 2.0);
        assert_eq!(d.size_bytes, 16);
        assert_eq!(d.freed_nodes, 2);
        assert_eq!(d.allocated_nodes, 3);
        let got: Vec<(&str, i64, u64, u64)> = d
            .details
            .iter()
            .map(|x| (x.what.as_str(), x.size_bytes, x.added, x.freed))
            .collect();
        assert_eq!(
            got,
            [("String", -40, 0, 1), ("Bar", 32, 1, 0), ("Foo", 24, 2, 1)]
        );
        let sum: i64 = d.details.iter().map(|x| x.size_bytes).sum();
        assert_eq!(sum, d.size_bytes);
    }

    #[test]
    fn survivors_that_change_size_or_group_move_bytes_only() {
        let mut g = Groups::new(&[]);
        let a = g.intern(b"A");
        let b = g.intern(b"B");
        let before = census(&g, &[(1, a, 100), (2, a, 10)], 0.0);
        let after = census(&g, &[(1, a, 150), (2, b, 10)], 0.0);
        let d = diff(&before, &after, &g);
        assert_eq!((d.freed_nodes, d.allocated_nodes), (0, 0));
        let got: Vec<(&str, i64, u64, u64)> = d
            .details
            .iter()
            .map(|x| (x.what.as_str(), x.size_bytes, x.added, x.freed))
            .collect();
        assert_eq!(got, [("A", 40, 0, 0), ("B", 10, 0, 0)]);
        assert_eq!(d.size_bytes, 50);
    }

    #[test]
    fn identical_snapshots_have_no_details_and_empty_ones_work() {
        let mut g = Groups::new(&[]);
        let a = g.intern(b"A");
        let c = census(&g, &[(1, a, 8), (3, a, 8)], 0.0);
        let d = diff(&c, &c, &g);
        assert!(d.details.is_empty());
        assert_eq!((d.size_bytes, d.freed_nodes, d.allocated_nodes), (0, 0, 0));
        let empty = census(&g, &[], 0.0);
        let d = diff(&empty, &c, &g);
        assert_eq!(d.allocated_nodes, 2);
        assert_eq!(d.details[0].what, "A");
        let d = diff(&c, &empty, &g);
        assert_eq!((d.freed_nodes, d.details[0].size_bytes), (2, -16));
    }

    #[test]
    fn details_sort_by_absolute_size_then_count_then_name() {
        let mut g = Groups::new(&[]);
        let (x, y, z, w) = (
            g.intern(b"X"),
            g.intern(b"Y"),
            g.intern(b"Z"),
            g.intern(b"W"),
        );
        let before = census(&g, &[(1, x, 500)], 0.0);
        let after = census(&g, &[(2, y, 100), (3, z, 50), (4, z, 50), (5, w, 100)], 0.0);
        let d = diff(&before, &after, &g);
        let order: Vec<&str> = d.details.iter().map(|x| x.what.as_str()).collect();
        assert_eq!(order, ["X", "Z", "W", "Y"]);
    }

    #[test]
    fn nodes_without_stable_ids_are_matched_by_name_count() {
        let mut g = Groups::new(&[]);
        let native = g.for_kind(super::super::records::kind::NATIVE);
        let env = g.intern_keyed(native, b"Node / Environment");
        let buf = g.intern_keyed(native, b"Node / Buffer");
        let data = g.intern_keyed(native, b"Node / BindingData");
        // Fresh ids each time; the same Environment and BindingData, one more
        // Buffer, and a native with a stable id that was freed.
        let before = census(
            &g,
            &[(2, env, 100), (4, data, 10), (6, buf, 8), (9, native, 50)],
            0.0,
        );
        let after = census(
            &g,
            &[(20, env, 100), (22, data, 12), (24, buf, 8), (26, buf, 8)],
            0.0,
        );
        let d = diff(&before, &after, &g);
        assert_eq!(d.allocated_nodes, 1);
        assert_eq!(d.freed_nodes, 1);
        assert_eq!(d.details.len(), 1);
        let n = &d.details[0];
        assert_eq!((n.what.as_str(), n.added, n.freed), ("Native", 1, 1));
        // -50 freed, +8 new Buffer, +2 BindingData growth
        assert_eq!(n.size_bytes, -40);
        assert_eq!(d.size_bytes, -40);
    }

    #[test]
    fn the_builder_takes_after_nodes_in_any_order_and_skips_excluded() {
        let mut g = Groups::new(&["HeapDiff"]);
        let foo = g.intern(b"Foo");
        let own = g.intern(b"HeapDiff");
        let before = census(&g, &[(1, foo, 8), (3, foo, 8), (5, foo, 8)], 1.0);
        let mut b = DiffBuilder::new(&before);
        for (id, group, size) in [(9, foo, 8), (5, foo, 8), (7, own, 64), (1, foo, 8)] {
            b.add(&g, Record { id, group, size });
        }
        let d = b.finish(&g, 2.0);
        assert_eq!((d.allocated_nodes, d.freed_nodes), (1, 1));
        assert_eq!(
            (d.after.nodes, d.after.size_bytes, d.after.time_ms),
            (3, 24, 2.0)
        );
        assert_eq!(d.size_bytes, 0);
        assert_eq!(d.details.len(), 1);
        assert_eq!(
            (
                d.details[0].added,
                d.details[0].freed,
                d.details[0].size_bytes
            ),
            (1, 1, 0)
        );
    }

    #[test]
    fn groups_created_after_the_census_are_accepted() {
        let mut g = Groups::new(&[]);
        let before = census(&g, &[], 0.0);
        let snapshot_groups = g.clone();
        let late = g.intern(b"Late");
        let after = census(&g, &[(1, late, 4)], 0.0);
        // Diffing with an older table must not panic; names fall back.
        let d = diff(&before, &after, &snapshot_groups);
        assert_eq!(d.details.len(), 1);
        assert_eq!(d.details[0].what, "?");
    }
}
