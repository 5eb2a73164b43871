use std::path::PathBuf;

use super::*;
use crate::heap_diff::diff::diff;

const META: &str = r#"{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]},"node_count":5,"edge_count":2,"trace_function_count":0}"#;

fn snapshot(nodes: &str, strings: &str) -> String {
    format!(
        "{{\"snapshot\":{META},\n\"nodes\":[{nodes}],\n\"edges\":[1,1,7\n,1,2,14],\n\"strings\":[{strings}]}}"
    )
}

/// A private folder for one test's files, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("memwatch-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// Before: Foo#3, Foo#5, Bar#7, a string #9, two "Node / A" natives (even ids).
// After: Foo#3 grew, Foo#5 freed, Bar#7 is now a Foo (prototype change), new
// Foo#11 and Baz#13, one "Node / A" native with a fresh even id. The string
// table is ordered differently in each file.
const BEFORE: (&str, &str) = (
    "3,1,3,24,0,0,0, 3,1,5,24,0,0,0, 3,2,7,40,0,0,0, 2,3,9,16,0,0,0, 8,4,2,10,0,0,0, 8,4,4,10,0,0,0",
    r#""","Foo","Bar","s","Node / A""#,
);
const AFTER: (&str, &str) = (
    "3,4,3,32,0,0,0, 3,4,7,40,0,0,0, 2,0,9,16,0,0,0, 3,4,11,24,0,0,0, 3,2,13,8,0,0,0, 8,1,6,10,0,0,0",
    r#""s","Node / A","Baz","x","Foo""#,
);

#[test]
fn equals_the_diff_of_both_record_sets() {
    let dir = Dir::new("equal");
    let before = dir.file("before.heapsnapshot", &snapshot(BEFORE.0, BEFORE.1));
    let after = dir.file("after.heapsnapshot", &snapshot(AFTER.0, AFTER.1));

    let d = diff_files(&before, &after).unwrap();

    // The same files read whole into two record sets and diffed.
    let mut g = Groups::new(&[]);
    let read = |p: &PathBuf, g: &mut Groups| {
        let recs = read_records(File::open(p).unwrap(), g).unwrap();
        RecordSet::new(recs, g, 0.0)
    };
    let b = read(&before, &mut g);
    let a = read(&after, &mut g);
    let mut whole = diff(&b, &a, &g);
    whole.before.time_ms = d.before.time_ms;
    whole.after.time_ms = d.after.time_ms;
    assert_eq!(d, whole);

    let by = |what: &str| d.details.iter().find(|x| x.what == what).cloned();
    let foo = by("Foo").unwrap();
    assert_eq!((foo.added, foo.freed), (1, 1), "new #11, freed #5");
    // +8 (#3 grew) - 24 (#5) + 24 (#11) + 40 (#7 moved in from Bar)
    assert_eq!(foo.size_bytes, 48);
    let bar = by("Bar").unwrap();
    assert_eq!((bar.added, bar.freed, bar.size_bytes), (0, 0, -40));
    let baz = by("Baz").unwrap();
    assert_eq!((baz.added, baz.freed, baz.size_bytes), (1, 0, 8));
    let native = by("Native").unwrap();
    assert_eq!((native.added, native.freed, native.size_bytes), (0, 1, -10));
    assert!(
        by("String").is_none(),
        "the string survived under another index"
    );
    assert_eq!((d.before.nodes, d.after.nodes), (6, 6));
    assert_eq!((d.allocated_nodes, d.freed_nodes), (2, 2));
    assert_eq!(d.size_bytes, 130 - 124);
    assert!(d.before.time_ms > 0.0, "file times are used");
}

#[test]
fn a_file_diffed_with_itself_has_no_change() {
    let dir = Dir::new("self");
    let f = dir.file("a.heapsnapshot", &snapshot(BEFORE.0, BEFORE.1));
    let d = diff_files(&f, &f).unwrap();
    assert!(d.details.is_empty(), "{:?}", d.details);
    assert_eq!((d.allocated_nodes, d.freed_nodes, d.size_bytes), (0, 0, 0));
}

#[test]
fn bad_files_get_one_line_naming_the_file_and_the_fault() {
    let dir = Dir::new("bad");
    let good = dir.file("good.heapsnapshot", &snapshot(BEFORE.0, BEFORE.1));
    let full = snapshot(BEFORE.0, BEFORE.1);
    let cut = full.find("8,4,2").unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.0.join("missing.heapsnapshot"), "no such file"),
        (dir.0.clone(), "is a directory"),
        (dir.file("empty.heapsnapshot", ""), "empty file"),
        (
            dir.file("other.json", r#"{"name":"x","version":"1.0.0"}"#),
            "not a valid V8 heap snapshot",
        ),
        (
            dir.file("array.json", "[1,2,3]"),
            "not a valid V8 heap snapshot",
        ),
        (
            dir.file("cut.heapsnapshot", &full[..cut]),
            "truncated heap snapshot",
        ),
    ];
    for (path, want) in cases {
        for (b, a) in [(&path, &good), (&good, &path)] {
            let e = diff_files(b, a).unwrap_err();
            assert!(e.starts_with(&format!("{}: ", path.display())), "{e}");
            assert!(e.contains(want), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
