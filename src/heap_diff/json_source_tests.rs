use super::*;
use crate::heap_diff::retainers::edge;

const META: &str = r#"{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]},"node_count":5,"edge_count":2,"trace_function_count":0}"#;

fn snapshot(meta: &str, nodes: &str, strings: &str) -> String {
    format!(
        "{{\"snapshot\":{meta},\n\"nodes\":[{nodes}],\n\"edges\":[1,1,7\n,1,2,14],\n\"trace_function_infos\":[],\n\"trace_tree\":[[1,[2,[]]]],\n\"samples\":[],\n\"locations\":[],\n\"strings\":[{strings}]}}"
    )
}

fn read(text: &str) -> (Vec<(u32, String, u64)>, Groups) {
    let mut g = Groups::new(&[]);
    let recs = read_records(text.as_bytes(), &mut g).unwrap();
    let out = recs
        .iter()
        .map(|r| (r.id, g.name(r.group).to_owned(), r.size))
        .collect();
    (out, g)
}

#[test]
fn reads_nodes_by_meta_and_resolves_only_object_names() {
    let text = snapshot(
        META,
        "9,0,1,0,2,0,0,\n3,1,3,24,0,0,0,\n3,2,5,32,0,0,0,\n2,3,7,16,0,0,0,\n8,4,9,100,0,0,0,\n3,1,11,24,0,0,0",
        r#""","Foo","caf\u00e9 \ud83d\ude00 \"q\"","a string","Node / X""#,
    );
    let (recs, _) = read(&text);
    assert_eq!(
        recs,
        [
            (1, "Synthetic".to_owned(), 0),
            (3, "Foo".to_owned(), 24),
            (5, "café 😀 \"q\"".to_owned(), 32),
            (7, "String".to_owned(), 16),
            (9, "Native".to_owned(), 100),
            (11, "Foo".to_owned(), 24),
        ]
    );
}

#[test]
fn nodes_without_stable_ids_are_keyed_by_name() {
    let text = snapshot(
        META,
        "8,0,2,10,0,0,0, 8,1,4,10,0,0,0, 8,0,6,10,0,0,0, 8,0,7,10,0,0,0, 9,2,8,0,0,0,0",
        r#""Node / A","Node / B","C++ roots""#,
    );
    let mut g = Groups::new(&[]);
    let recs = read_records(text.as_bytes(), &mut g).unwrap();
    let native = g.for_kind(kind::NATIVE);
    let a = g.intern_keyed(native, b"Node / A");
    let b = g.intern_keyed(native, b"Node / B");
    let groups: Vec<u32> = recs.iter().map(|r| r.group).collect();
    // id 7 is stable: plain "Native"; the even ids are keyed by name.
    assert_eq!(&groups[..4], [a, b, a, native]);
    assert!(g.is_keyed(groups[4]));
    assert_eq!(g.name(groups[4]), "Synthetic");
}

#[test]
fn field_order_and_count_come_from_meta() {
    // An older layout: no detachedness, fields in another order.
    let meta = r#"{"meta":{"node_fields":["id","self_size","type","name","edge_count"],"node_types":["number","number",["hidden","array","string","object"],"string","number"]},"node_count":2}"#;
    let text = snapshot(meta, "5,40,3,0,0, 7,8,1,1,0", r#""Bar","(elements)""#);
    let (recs, _) = read(&text);
    assert_eq!(
        recs,
        [(5, "Bar".to_owned(), 40), (7, "Array".to_owned(), 8)]
    );
}

#[test]
fn unknown_kinds_are_named_not_dropped() {
    let meta = r#"{"meta":{"node_fields":["type","name","id","self_size"],"node_types":[["hidden","object","wasm struct"],"string","number","number"]}}"#;
    let text = snapshot(meta, "2,0,1,8,1,0,3,8,7,0,5,8", r#""Baz""#);
    let (recs, _) = read(&text);
    assert_eq!(recs[0].1, "Type wasm struct");
    assert_eq!(recs[1].1, "Baz");
    assert_eq!(recs[2].1, "Type 7");
}

#[test]
fn empty_object_names_are_anonymous_and_strings_may_be_unescaped_utf8() {
    let text = snapshot(META, "3,0,1,8,0,0,0,3,1,3,8,0,0,0", "\"\",\"Grüße\"");
    let (recs, _) = read(&text);
    assert_eq!(recs[0].1, super::super::records::ANONYMOUS);
    assert_eq!(recs[1].1, "Grüße");
}

#[test]
fn works_across_buffer_boundaries() {
    // More than one scanner buffer of nodes and strings.
    let n = 60_000u32;
    let mut nodes = String::new();
    let mut strings = String::from("\"Obj\"");
    for i in 0..n {
        if i > 0 {
            nodes.push(',');
        }
        let name = if i % 2 == 0 { 0 } else { i };
        nodes.push_str(&format!("3,{name},{},{},0,0,0", 2 * i + 1, i % 100));
    }
    for i in 1..n {
        strings.push_str(&format!(",\"s{i} \\\\ {}\"", "x".repeat(20)));
    }
    let text = snapshot(META, &nodes, &strings);
    assert!(text.len() > 2 * BUF);
    let (recs, g) = read(&text);
    assert_eq!(recs.len(), n as usize);
    assert_eq!(recs[0].1, "Obj");
    assert_eq!(recs[59_999].1, format!("s59999 \\ {}", "x".repeat(20)));
    assert_eq!(recs[59_999].0, 2 * 59_999 + 1);
    // Every odd node has its own name; even ones share "Obj".
    assert!(g.len() > 30_000);
}

#[test]
fn deeply_nested_unknown_sections_do_not_recurse() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let text = format!(
        "{{\"snapshot\":{META},\"nodes\":[3,0,1,8,0,0,0],\"trace_tree\":{deep},\"strings\":[\"A\"]}}"
    );
    let (recs, _) = read(&text);
    assert_eq!(recs, [(1, "A".to_owned(), 8)]);
}

#[test]
fn skipped_sections_may_hold_brackets_and_quotes_in_strings() {
    let odd = r#"{"a":"]}\"[","b":[1,"[",{"c":"}"},-2.5e3,true,null],"d":"\\"}"#;
    serde_json::from_str::<serde_json::Value>(odd).expect("valid JSON");
    let text = format!(
        "{{\"x\":{odd},\"snapshot\":{META},\"y\":\"]\",\"nodes\":[3,0,1,8,0,0,0],\"z\":{odd},\"strings\":[\"A\"]}}"
    );
    let (recs, _) = read(&text);
    assert_eq!(recs, [(1, "A".to_owned(), 8)]);
}

#[test]
fn rejects_malformed_input_with_an_error() {
    let mut g = Groups::new(&[]);
    for bad in [
        "",
        "{}",
        "[1,2]",
        "{\"nodes\":[1,2,3,4]}",
        &format!("{{\"snapshot\":{META},\"nodes\":[3,0,1]}}"),
        &format!("{{\"snapshot\":{META},\"nodes\":[3,0,1,8,0,0,0]}}"),
        &format!("{{\"snapshot\":{META},\"nodes\":[3,0,1,-8,0,0,0],\"strings\":[\"A\"]}}"),
        &format!("{{\"snapshot\":{META},\"nodes\":[3,0,1,8,0,0,0],\"strings\":[\"A"),
        r#"{"snapshot":{"meta":{"node_fields":["type","id"]}},"nodes":[]}"#,
    ] {
        assert!(
            read_records(bad.as_bytes(), &mut g).is_err(),
            "accepted {bad:?}"
        );
    }
}

#[test]
fn a_snapshot_without_object_nodes_needs_no_strings() {
    let text = format!("{{\"snapshot\":{META},\"nodes\":[9,0,1,0,0,0,0]}}");
    let mut g = Groups::new(&[]);
    let recs = read_records(text.as_bytes(), &mut g).unwrap();
    assert_eq!(recs.len(), 1);
}

/// root(0) -[property "app"]-> Object(1) -[property "cache"]-> Map(2)
/// -[internal "table"]-> array(3) -[element 7]-> Fresh(4); root
/// -[element 1]-> (GC roots)(5) -[weak "w"]-> Fresh(4).
fn graph_snapshot() -> String {
    let nodes = "9,0,1,0,2,0,0, 3,1,3,16,1,0,0, 3,2,5,32,1,0,0, 1,3,7,80,1,0,0, 3,4,9,24,0,0,0, 9,5,11,0,1,0,0";
    let edges = "2,6,7, 1,1,35, 2,7,14, 3,8,21, 1,7,28, 6,9,28";
    let strings = r#""","Object","Map","","Fresh","(GC roots)","app","cache","table","w""#;
    format!(
        "{{\"snapshot\":{META},\n\"nodes\":[{nodes}],\n\"edges\":[{edges}],\n\"samples\":[],\n\"strings\":[{strings}]}}"
    )
}

#[test]
fn the_graph_is_kept_compactly_when_asked_for() {
    let text = graph_snapshot();
    let mut g = Groups::new(&[]);
    let r = read_with_graph(text.as_bytes(), &mut g).unwrap();
    assert_eq!(r.records.len(), 6);
    let graph = &r.graph;
    assert_eq!(graph.edge_start, [0, 2, 3, 4, 5, 5, 6]);
    assert_eq!(graph.edge_to, [1, 5, 2, 3, 4, 4]);
    assert_eq!(
        graph.edge_type,
        [
            edge::PROPERTY,
            edge::ELEMENT,
            edge::PROPERTY,
            edge::INTERNAL,
            edge::ELEMENT,
            edge::WEAK
        ]
        .map(|t| t as u8)
    );
    assert_eq!(graph.edge_name, [6, 1, 7, 8, 7, 9]);
    assert_eq!(
        graph.node_kind,
        [
            kind::SYNTHETIC,
            kind::OBJECT,
            kind::OBJECT,
            kind::ARRAY,
            kind::OBJECT,
            kind::SYNTHETIC
        ]
        .map(|k| k as u8)
    );
    assert_eq!(graph.node_name, [0, 1, 2, 3, 4, 5]);
    // The string table is found again by offset, and read only as far as needed.
    let strings = read_strings_at(
        std::io::Cursor::new(text.as_bytes()),
        r.strings_at,
        &[4, 6, 8],
    )
    .unwrap();
    assert_eq!(strings.len(), 3);
    assert_eq!(
        (
            strings[&4].as_str(),
            strings[&6].as_str(),
            strings[&8].as_str()
        ),
        ("Fresh", "app", "table")
    );
    // Without the graph nothing of it is kept, and the records are the same.
    let plain = read_records(text.as_bytes(), &mut g).unwrap();
    assert_eq!(plain, r.records);
}

#[test]
fn a_graph_that_does_not_add_up_is_an_error() {
    let text = graph_snapshot();
    let mut g = Groups::new(&[]);
    for (from, to) in [
        ("1,7,28, 6,9,28", "1,7,28"), // fewer edges than the nodes count
        ("6,9,28", "6,9,29"),         // not a node offset
        ("6,9,28", "6,9,700"),        // past the last node
        ("\"edges\"", "\"edgez\""),   // no edges at all
    ] {
        let bad = text.replacen(from, to, 1);
        assert!(
            read_with_graph(bad.as_bytes(), &mut g).is_err(),
            "accepted {from} -> {to}"
        );
    }
}

/// A reader that hands out at most `n` bytes a read, so the scanner's
/// in-buffer fast paths (whole nodes, strings) never apply and the general
/// path reads everything.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.len().min(buf.len()).min(self.1);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn fast_paths_read_and_reject_exactly_as_the_general_path() {
    let cases = [
        snapshot(META, "3,1,1,8,0,0,0\n,3,2,3,16,0,0,0", r#""","A","B""#),
        snapshot(
            META,
            " 3 , 1 ,1,8,0,0,0 ,\n 3,2,3, 16,0,0 ,0 ",
            "\"\" ,\n \"A\" , \"B\\\"\" ",
        ),
        snapshot(META, "3,1,1,8.0,0,0,0,3,2,3,1e1,0,0,-0.5", r#""","A","B""#),
        snapshot(
            META,
            "3,1,1,8,0,0,0   ,   3,2,3,16,0,0,0\n\n\n,3,1,5,1,0,0,0",
            r#""","A","B""#,
        ),
        snapshot(META, "3,1,1,12345678901234567890,0,0,0", r#""","A""#),
        snapshot(META, "3,1,1,1234567890123456789,0,0,0", r#""","A""#),
        snapshot(META, "3,1,1,8,0,0", r#""","A""#),
        snapshot(META, "3,1,1,8,0,0,0,]", r#""","A""#),
        snapshot(META, "3,1,1,8,0,0,0,3", r#""","A""#),
        snapshot(META, "3,1,1,8,0,0,x", r#""","A""#),
        snapshot(META, "3,1,1,8,0,0,0", r#""","A" "B""#),
        snapshot(META, "3,1,1,8,0,0,0", r#""","A",]"#),
        snapshot(META, "3,1,1,8,0,0,0", r#""","A\u0042", 7, "\"""#),
        format!("{{\"snapshot\":{META},\"nodes\":[3,1,1,8,0,0,0],\"strings\":[\"\",\"A"),
        format!("{{\"snapshot\":{META},\"nodes\":[3,1,1,8,0,0,0,3,1"),
    ];
    let show = |r: Result<Vec<Record>>, g: &Groups| match r {
        Ok(recs) => format!(
            "{:?}",
            recs.iter()
                .map(|r| (r.id, g.name(r.group).to_owned(), r.size))
                .collect::<Vec<_>>()
        ),
        Err(e) => e.0,
    };
    for text in &cases {
        let mut g = Groups::new(&[]);
        let whole = show(read_records(text.as_bytes(), &mut g), &g);
        for n in [1, 2, 3, 5, 8] {
            let mut g = Groups::new(&[]);
            let trickled = show(read_records(Trickle(text.as_bytes(), n), &mut g), &g);
            assert_eq!(whole, trickled, "{text:?} read {n} bytes at a time");
        }
    }
}
