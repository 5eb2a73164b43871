use super::*;

#[test]
fn fixed_kinds_use_memwatch_names_and_objects_share_them() {
    let mut g = Groups::new(&[]);
    let names: Vec<String> = [
        kind::ARRAY,
        kind::STRING,
        kind::CODE,
        kind::CLOSURE,
        kind::REGEXP,
        kind::NUMBER,
        kind::NATIVE,
    ]
    .iter()
    .map(|&k| {
        let i = g.for_kind(k);
        g.name(i).to_owned()
    })
    .collect();
    assert_eq!(
        names,
        ["Array", "String", "Code", "Closure", "RegExp", "Number", "Native"]
    );
    // A JS array is an object named "Array": same group as V8's arrays.
    assert_eq!(g.intern(b"Array"), g.for_kind(kind::ARRAY));
    let i = g.for_kind(kind::HIDDEN);
    assert_eq!(g.name(i), "Hidden");
    let i = g.for_kind(kind::CONS_STRING);
    assert_eq!(g.name(i), "ConsString");
    let i = g.for_kind(kind::OBJECT_SHAPE);
    assert_eq!(g.name(i), "ObjectShape");
    let unknown = g.for_kind(42);
    assert_eq!(g.name(unknown), "Type 42");
    assert_eq!(g.for_kind(42), unknown);
}

#[test]
fn intern_is_stable_and_handles_empty_and_bad_utf8() {
    let mut g = Groups::new(&[]);
    let a = g.intern(b"Foo");
    let before = g.len();
    assert_eq!(g.intern(b"Foo"), a);
    assert_eq!(g.len(), before);
    let i = g.intern(b"");
    assert_eq!(g.name(i), ANONYMOUS);
    let i = g.intern(b"caf\xc3\xa9");
    assert_eq!(g.name(i), "café");
    let i = g.intern(b"x\xff");
    assert_eq!(g.name(i), "x\u{fffd}");
}

#[test]
fn census_sorts_drops_excluded_and_sums() {
    let mut g = Groups::new(&["HeapDiff"]);
    let foo = g.intern(b"Foo");
    let own = g.intern(b"HeapDiff");
    assert!(g.is_excluded(own) && !g.is_excluded(foo));
    let rec = |id, group, size| Record { id, group, size };
    let c = RecordSet::new(
        vec![rec(9, foo, 10), rec(3, own, 100), rec(1, foo, 5)],
        &g,
        1.0,
    );
    assert_eq!(c.records, vec![rec(1, foo, 5), rec(9, foo, 10)]);
    assert_eq!(c.size, 15);
}

#[test]
fn keyed_groups_report_under_their_group_and_inherit_exclusion() {
    let mut g = Groups::new(&["HeapDiff"]);
    let native = g.for_kind(kind::NATIVE);
    let a = g.intern_keyed(native, b"Node / A");
    let b = g.intern_keyed(native, b"Node / B");
    assert_ne!(a, b);
    assert_eq!(g.intern_keyed(native, b"Node / A"), a);
    assert_eq!(
        g.intern_keyed(a, b"Node / A"),
        a,
        "keying a keyed group keys its parent"
    );
    assert!(g.is_keyed(a) && !g.is_keyed(native));
    assert_eq!((g.reported(a), g.name(a)), (native, "Native"));
    // A keyed name never collides with a plain group of the same text.
    let plain = g.intern(b"Node / A");
    assert!(plain != a && !g.is_keyed(plain));
    let own = g.intern(b"HeapDiff");
    let own_keyed = g.intern_keyed(own, b"x");
    assert!(g.is_excluded(own_keyed));
    assert!(is_unstable_id(2) && !is_unstable_id(3));
}

#[test]
fn json_kind_names_map_to_v8_kinds() {
    assert_eq!(kind_from_json_name("object"), Some(kind::OBJECT));
    assert_eq!(
        kind_from_json_name("object shape"),
        Some(kind::OBJECT_SHAPE)
    );
    assert_eq!(
        kind_from_json_name("concatenated string"),
        Some(kind::CONS_STRING)
    );
    assert_eq!(kind_from_json_name("wasm thing"), None);
}

#[test]
fn sort_by_id_sorts_nearly_sorted_and_unsorted_records() {
    let rec = |id: u32| Record {
        id,
        group: id % 7,
        size: u64::from(id) * 3,
    };
    // A pseudo-random but fixed sequence.
    let mut x = 12345u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut inputs: Vec<Vec<Record>> = vec![
        vec![],
        vec![rec(5)],
        (0..1000).map(|i| rec(2 * i + 1)).collect(),
        (0..1000).rev().map(rec).collect(),
        (0..1000).map(|_| rec(next() % 5000)).collect(),
    ];
    for tail in [1, 2, 37, 125, 126, 400] {
        let mut v: Vec<Record> = (0..1000 - tail).map(|i| rec(2 * i + 1)).collect();
        v.extend((0..tail).map(|_| rec(next() % 2200)));
        inputs.push(v);
    }
    for mut v in inputs {
        let mut want = v.clone();
        want.sort_by_key(|r| (r.id, r.group, r.size));
        sort_by_id(&mut v);
        assert!(v.windows(2).all(|w| w[0].id <= w[1].id));
        v.sort_by_key(|r| (r.id, r.group, r.size));
        assert_eq!(v, want);
    }
}
