use super::*;

fn node(
    parent: Option<usize>,
    function: &str,
    line: i32,
    allocations: Vec<(u64, u64)>,
) -> TreeNode {
    TreeNode {
        parent,
        function: function.into(),
        script: if parent.is_some() {
            "/app/x.js".into()
        } else {
            String::new()
        },
        line,
        column: 5,
        allocations,
    }
}

fn tree() -> Vec<TreeNode> {
    vec![
        node(None, "(root)", 0, vec![]),
        node(Some(0), "main", 1, vec![(16, 10)]),
        node(Some(1), "makeSession", 12, vec![(32, 1000), (816, 1000)]),
        node(Some(1), "", 30, vec![]),
        node(Some(3), "makeSession", 12, vec![(64, 5)]),
    ]
}

#[test]
fn sites_are_stacks_leaf_first_largest_first() {
    let s = sites(&tree());
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].bytes, 32 * 1000 + 816 * 1000);
    assert_eq!(s[0].count, 2000);
    let names: Vec<&str> = s[0].frames.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["makeSession", "main"], "the root is not a frame");
    assert_eq!(s[0].frames[0].line, 12);
    assert_eq!(s[0].frames[0].script, "/app/x.js");
    assert_eq!(s[1].bytes, 320);
    let names: Vec<&str> = s[1].frames.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["makeSession", "(anonymous)", "main"]);
    assert_eq!(s[2].bytes, 160);
    assert_eq!(total(&s), (848_000 + 320 + 160, 2015));
}

#[test]
fn equal_stacks_merge_and_huge_counts_saturate() {
    let mut t = tree();
    t.push(node(Some(1), "makeSession", 12, vec![(1, 7)]));
    t.push(node(Some(0), "big", 2, vec![(u64::MAX, 2)]));
    let s = sites(&t);
    let merged = s
        .iter()
        .find(|x| x.frames.len() == 2 && x.frames[0].function == "makeSession")
        .unwrap();
    assert_eq!((merged.bytes, merged.count), (848_007, 2007));
    assert_eq!(s[0].bytes, i64::MAX);
}

#[test]
fn diffs_match_by_frames_growing_first() {
    let before = sites(&tree());
    let mut t = tree();
    t[2].allocations = vec![(32, 3000)];
    t[4].allocations.clear();
    t.push(node(Some(1), "fresh", 50, vec![(8, 8)]));
    let after = sites(&t);
    let d = diff(&before, &after);
    let by = |f: &str, depth: usize| {
        d.iter()
            .find(|s| s.frames[0].function == f && s.frames.len() == depth)
            .cloned()
    };
    assert_eq!(d[0].frames[0].function, "fresh");
    assert_eq!((d[0].bytes, d[0].count), (64, 8));
    assert_eq!(
        by("makeSession", 3).map(|s| (s.bytes, s.count)),
        Some((-320, -5))
    );
    assert_eq!(
        by("makeSession", 2).map(|s| (s.bytes, s.count)),
        Some((96_000 - 848_000, 1000))
    );
    assert!(by("main", 1).is_none(), "unchanged sites are left out");
    assert_eq!(d.last().unwrap().bytes, 96_000 - 848_000);
    assert_eq!(grown(&before, &after, 10).len(), 1);
    assert!(grown(&after, &after, 10).is_empty());
}
