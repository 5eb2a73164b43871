use super::*;

fn census(groups: &Groups, records: &[(u32, u32, u64)], t: f64) -> RecordSet {
    RecordSet::new(
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
