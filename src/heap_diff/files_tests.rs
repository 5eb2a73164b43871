use super::*;

const META: &str = r#"{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]}}"#;

/// root → global (shortcut) → app → cache (Map) → table → `fresh` Fresh
/// objects (element edges), as V8 would write it.
fn snapshot(fresh: u32) -> String {
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

#[test]
fn two_files_give_the_diff_and_the_path_of_what_grew() {
    let dir = std::env::temp_dir().join(format!("memwatch-files-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (before, after) = (
        dir.join("before.heapsnapshot"),
        dir.join("after.heapsnapshot"),
    );
    std::fs::write(&before, snapshot(3)).unwrap();
    std::fs::write(&after, snapshot(40)).unwrap();
    let plain = diff_files(&before, &after, None).unwrap();
    let d = diff_files(&before, &after, Some(2)).unwrap();
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
fn a_missing_file_is_an_error_naming_it() {
    let e = diff_files(
        Path::new("/nonexistent/a.heapsnapshot"),
        Path::new("/nonexistent/b"),
        Some(1),
    )
    .unwrap_err();
    assert!(e.contains("/nonexistent/a.heapsnapshot"), "{e}");
}
