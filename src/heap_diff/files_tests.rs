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

/// root → global (shortcut) → app → cache (Map) → table → `fresh` Fresh
/// objects (element edges), as V8 would write it.
fn chain_snapshot(fresh: u32) -> String {
    // nodes: 0 root, 1 global, 2 app, 3 Map, 4 table, 5.. Fresh
    let mut nodes = vec![
        format!("9,0,1,0,1,0,0"),
        format!("3,1,3,16,1,0,0"),
        format!("3,2,5,16,1,0,0"),
        format!("3,3,7,32,1,0,0"),
        format!("1,0,9,64,{fresh},0,0"),
    ];
    let mut edges = vec![
        "5,4,7".to_owned(),
        "2,5,14".to_owned(),
        "2,6,21".to_owned(),
        "3,7,28".to_owned(),
    ];
    for i in 0..fresh {
        nodes.push(format!("3,8,{},24,0,0,0", 101 + 2 * i));
        edges.push(format!("1,{i},{}", 7 * (5 + i)));
    }
    let strings = r#""","global","Object","Map","global","app","cache","table","Fresh""#;
    format!(
        "{{\"snapshot\":{META},\n\"nodes\":[{}],\n\"edges\":[{}],\n\"strings\":[{strings}]}}",
        nodes.join(","),
        edges.join(",")
    )
}

/// A fresh folder (named by `tag` and the process) with `before` and `after`
/// chain snapshots: 3 `Fresh` objects, then 40.
fn chain_files(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("memwatch-files-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (before, after) = (
        dir.join("before.heapsnapshot"),
        dir.join("after.heapsnapshot"),
    );
    std::fs::write(&before, chain_snapshot(3)).unwrap();
    std::fs::write(&after, chain_snapshot(40)).unwrap();
    (dir, before, after)
}

#[test]
fn two_files_give_the_diff_and_the_path_of_what_grew() {
    let (dir, before, after) = chain_files("paths");
    let plain = diff_files(&before, &after).unwrap();
    let d = diff_files_explained(&before, &after, &retainers::Ask::top(2)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let fresh = |d: &Diff| {
        d.details
            .iter()
            .find(|x| x.what == "Fresh")
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (fresh(&plain).added, fresh(&plain).retainers.clone()),
        (37, None)
    );
    let f = fresh(&d);
    assert_eq!(f.added, 37);
    let r = f.retainers.unwrap();
    assert_eq!(r.len(), 1, "one distinct path: {r:?}");
    assert!(
        r[0].path
            .starts_with("global → app (Object) → cache (Map) → table → ["),
        "{}",
        r[0].path
    );
    assert!(r[0].path.ends_with("] (Fresh)"), "{}", r[0].path);
    assert_eq!(r[0].count, 32, "16 samples per path asked for");
    // The rest of the diff is the same with or without paths.
    let strip = |d: &Diff| {
        let mut d = d.clone();
        d.details.iter_mut().for_each(|x| x.retainers = None);
        d
    };
    assert_eq!(strip(&d), strip(&plain));
}

#[test]
fn named_groups_get_paths_and_no_other_group_does() {
    let (dir, before, after) = chain_files("groups");
    let ask = |names: &[&str]| retainers::Ask {
        n: 1,
        groups: Some(names.iter().map(|g| g.to_string()).collect()),
    };
    let fresh = diff_files_explained(&before, &after, &ask(&["Fresh"])).unwrap();
    let none = diff_files_explained(&before, &after, &ask(&["NoSuchGroup"])).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let explained = |d: &Diff| -> Vec<String> {
        d.details
            .iter()
            .filter(|x| x.retainers.is_some())
            .map(|x| x.what.clone())
            .collect()
    };
    assert_eq!(explained(&fresh), ["Fresh"]);
    // Fresh grew (the top-5 pick explains it), but was not named.
    assert!(none
        .details
        .iter()
        .any(|x| x.what == "Fresh" && x.added > 0));
    assert!(explained(&none).is_empty());
}

#[test]
fn a_missing_file_with_retainers_is_an_error_naming_it() {
    let e = diff_files_explained(
        Path::new("/nonexistent/a.heapsnapshot"),
        Path::new("/nonexistent/b"),
        &retainers::Ask::top(1),
    )
    .unwrap_err();
    assert!(e.contains("/nonexistent/a.heapsnapshot"), "{e}");
}

/// Times (and, under `perf record`, profiles) the diff of two real files:
/// `MEMWATCH_DIFF_BEFORE=... MEMWATCH_DIFF_AFTER=... cargo test --release
/// --lib files_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn files_speed() {
    let (Ok(a), Ok(b)) = (
        std::env::var("MEMWATCH_DIFF_BEFORE"),
        std::env::var("MEMWATCH_DIFF_AFTER"),
    ) else {
        return;
    };
    let runs: usize = std::env::var("MEMWATCH_DIFF_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    if std::env::var("MEMWATCH_DIFF_READ_ONLY").is_ok() {
        // The floor: a plain 1 MiB-read loop over both files.
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..runs {
            let t = std::time::Instant::now();
            let mut bytes = 0;
            for p in [&a, &b] {
                let mut f = std::fs::File::open(p).unwrap();
                loop {
                    match std::io::Read::read(&mut f, &mut buf).unwrap() {
                        0 => break,
                        n => bytes += n,
                    }
                }
            }
            println!("{:?}: read {bytes} bytes nodes", t.elapsed());
        }
        return;
    }
    for _ in 0..runs {
        let t = std::time::Instant::now();
        let d = diff_files(a.as_ref(), b.as_ref()).unwrap();
        println!(
            "{:?}: {} nodes before, {} after, {} new, {} freed, {} groups",
            t.elapsed(),
            d.before.nodes,
            d.after.nodes,
            d.allocated_nodes,
            d.freed_nodes,
            d.details.len()
        );
    }
}
