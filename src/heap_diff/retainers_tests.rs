use super::*;
use crate::heap_diff::diff::{Detail, Summary};

/// A graph built by name: nodes (kind, name), edges (from, type, name, to);
/// element edges take their index from the name.
struct Build {
    strings: Vec<String>,
    nodes: Vec<(u8, u32)>,
    edges: Vec<Vec<(u8, u32, u32)>>,
}

impl Build {
    fn new() -> Build {
        let mut b = Build {
            strings: Vec::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        b.node(kind::SYNTHETIC, "");
        b
    }

    fn string(&mut self, s: &str) -> u32 {
        match self.strings.iter().position(|x| x == s) {
            Some(i) => i as u32,
            None => {
                self.strings.push(s.to_owned());
                self.strings.len() as u32 - 1
            }
        }
    }

    fn node(&mut self, k: u32, name: &str) -> u32 {
        let n = self.string(name);
        self.nodes.push((k as u8, n));
        self.edges.push(Vec::new());
        self.nodes.len() as u32 - 1
    }

    fn edge(&mut self, from: u32, t: u32, name: &str, to: u32) {
        let n = if edge::is_indexed(t) {
            name.parse().unwrap()
        } else {
            self.string(name)
        };
        self.edges[from as usize].push((t as u8, n, to));
    }

    fn graph(&self) -> CompactGraph {
        let mut g = CompactGraph::default();
        let mut at = 0u32;
        for (i, (k, n)) in self.nodes.iter().enumerate() {
            g.edge_start.push(at);
            g.node_kind.push(*k);
            g.node_name.push(*n);
            for &(t, name, to) in &self.edges[i] {
                g.edge_type.push(t);
                g.edge_name.push(name);
                g.edge_to.push(to);
                at += 1;
            }
        }
        g.edge_start.push(at);
        g
    }

    fn names(&self) -> HashMap<u32, String> {
        self.strings
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.clone()))
            .collect()
    }
}

/// Prints every path found to `target` in `g` (one path, no sampling).
fn path_to(b: &Build, target: u32) -> Option<String> {
    let g = b.graph();
    let names = b.names();
    let tree = shortest_paths(&g, 0, &[target]);
    let pieces = tree.pieces(&g, target)?;
    let plan = Plan {
        groups: vec![PlannedGroup {
            detail: 0,
            paths: vec![pieces],
            unreached: 0,
        }],
    };
    let mut diff = diff_of(vec![detail("X", 1, 1)]);
    plan.render(&mut diff, 1, |s| g.label(0, s, &names));
    Some(diff.details[0].retainers.clone().unwrap()[0].path.clone())
}

fn detail(what: &str, added: u64, bytes: i64) -> Detail {
    Detail {
        what: what.into(),
        size_bytes: bytes,
        added,
        freed: 0,
        retainers: None,
    }
}

fn diff_of(details: Vec<Detail>) -> Diff {
    let s = Summary {
        nodes: 0,
        size_bytes: 0,
        time_ms: 0.0,
    };
    Diff {
        before: s,
        after: s,
        size_bytes: 0,
        freed_nodes: 0,
        allocated_nodes: 0,
        details,
    }
}

/// root → global (shortcut), root → (GC roots) → (Handles) → …
fn with_roots(b: &mut Build) -> (u32, u32) {
    let global = b.node(kind::OBJECT, "Object / global");
    let gc_roots = b.node(kind::SYNTHETIC, "(GC roots)");
    let handles = b.node(kind::SYNTHETIC, "(Handle scope)");
    b.edge(0, edge::SHORTCUT, "global", global);
    b.edge(0, edge::ELEMENT, "1", gc_roots);
    b.edge(gc_roots, edge::ELEMENT, "0", handles);
    (global, handles)
}

#[test]
fn a_known_chain_reads_from_the_global_object() {
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let app = b.node(kind::OBJECT, "Object");
    let cache = b.node(kind::OBJECT, "Map");
    let table = b.node(kind::ARRAY, "");
    let fresh = b.node(kind::OBJECT, "Fresh");
    b.edge(global, edge::PROPERTY, "app", app);
    b.edge(app, edge::PROPERTY, "cache", cache);
    b.edge(cache, edge::INTERNAL, "table", table);
    b.edge(table, edge::INTERNAL, "17", fresh);
    assert_eq!(
        path_to(&b, fresh).unwrap(),
        "global → app (Object) → cache (Map) → table → [17] (Fresh)"
    );
}

#[test]
fn user_roots_come_first_even_when_a_gc_root_path_is_shorter() {
    let mut b = Build::new();
    let (global, handles) = with_roots(&mut b);
    let a = b.node(kind::OBJECT, "A");
    let c = b.node(kind::OBJECT, "C");
    let t = b.node(kind::OBJECT, "T");
    // (Handle scope) holds T directly: 3 steps; global holds it in 3 too,
    // but the user root wins, and a longer user path still wins.
    b.edge(handles, edge::ELEMENT, "0", t);
    b.edge(global, edge::PROPERTY, "a", a);
    b.edge(a, edge::PROPERTY, "c", c);
    b.edge(c, edge::PROPERTY, "t", t);
    assert_eq!(path_to(&b, t).unwrap(), "global → a (A) → c (C) → t (T)");
    // Held only by the handle scope: found in the second phase.
    let only = b.node(kind::OBJECT, "Only");
    b.edge(handles, edge::ELEMENT, "1", only);
    assert_eq!(
        path_to(&b, only).unwrap(),
        "(GC roots) → (Handle scope) → [1] (Only)"
    );
}

#[test]
fn weak_edges_inner_shortcuts_and_code_are_not_followed() {
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let holder = b.node(kind::OBJECT, "Holder");
    let code = b.node(kind::CODE, "code");
    let t = b.node(kind::OBJECT, "T");
    let via = b.node(kind::OBJECT, "Via");
    b.edge(global, edge::WEAK, "w", t);
    b.edge(global, edge::PROPERTY, "holder", holder);
    b.edge(holder, edge::SHORTCUT, "s", t);
    b.edge(holder, edge::INTERNAL, "code", code);
    b.edge(code, edge::INTERNAL, "t", t);
    b.edge(holder, edge::PROPERTY, "via", via);
    b.edge(via, edge::PROPERTY, "t", t);
    assert_eq!(
        path_to(&b, t).unwrap(),
        "global → holder (Holder) → via (Via) → t (T)"
    );
    // A target that is code itself is reached.
    assert_eq!(
        path_to(&b, code).unwrap(),
        "global → holder (Holder) → code"
    );
}

#[test]
fn only_weakly_held_objects_are_counted_apart() {
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let t = b.node(kind::OBJECT, "T");
    let u = b.node(kind::OBJECT, "T");
    b.edge(global, edge::WEAK, "w", t);
    b.edge(global, edge::PROPERTY, "u", u);
    let g = b.graph();
    let groups = Groups::new(&[]);
    let mut groups = groups;
    let tg = groups.intern(b"T");
    let mut diff = diff_of(vec![detail("T", 2, 64)]);
    let names = b.names();
    explain_compact(
        &g,
        &mut diff,
        &groups,
        &[(tg, t), (tg, u)],
        &Ask::top(5),
        |want| {
            Ok(want
                .iter()
                .filter_map(|i| names.get(i).map(|s| (*i, s.clone())))
                .collect())
        },
    )
    .unwrap();
    let r = diff.details[0].retainers.clone().unwrap();
    assert_eq!(
        r,
        vec![
            RetainerPath {
                path: ONLY_WEAK.into(),
                count: 1
            },
            RetainerPath {
                path: "global → u (T)".into(),
                count: 1
            },
        ]
    );
}

#[test]
fn cycles_end() {
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let x = b.node(kind::OBJECT, "X");
    let y = b.node(kind::OBJECT, "Y");
    b.edge(global, edge::PROPERTY, "x", x);
    b.edge(x, edge::PROPERTY, "y", y);
    b.edge(y, edge::PROPERTY, "x", x);
    b.edge(x, edge::PROPERTY, "self", x);
    assert_eq!(path_to(&b, y).unwrap(), "global → x (X) → y (Y)");
    let lost = b.node(kind::OBJECT, "Lost");
    assert_eq!(path_to(&b, lost), None);
}

#[test]
fn a_million_deep_list_is_one_run_and_nothing_recurses() {
    let n = 1_000_000u32;
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let mut prev = b.node(kind::OBJECT, "Node");
    b.edge(global, edge::PROPERTY, "head", prev);
    for _ in 1..n {
        let next = b.node(kind::OBJECT, "Node");
        b.edge(prev, edge::PROPERTY, "next", next);
        prev = next;
    }
    assert_eq!(
        path_to(&b, prev).unwrap(),
        format!("global → head (Node) → next (Node) ×{}", n - 1)
    );
}

#[test]
fn the_search_stops_after_the_level_of_the_last_target() {
    // A long tail behind the target is never expanded.
    struct Counting<'a>(&'a CompactGraph, std::cell::Cell<usize>);
    impl Graph for Counting<'_> {
        fn node_count(&self) -> usize {
            self.0.node_count()
        }
        fn kind(&self, n: u32) -> u32 {
            self.0.kind(n)
        }
        fn edges(&self, node: u32, f: &mut dyn FnMut(u32, u32, u32)) {
            self.1.set(self.1.get() + 1);
            self.0.edges(node, f)
        }
        fn step_key(&self, s: Step) -> u128 {
            self.0.step_key(s)
        }
    }
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let t = b.node(kind::OBJECT, "T");
    b.edge(global, edge::PROPERTY, "t", t);
    let mut prev = global;
    for _ in 0..10_000 {
        let next = b.node(kind::OBJECT, "Tail");
        b.edge(prev, edge::PROPERTY, "tail", next);
        prev = next;
    }
    let g = b.graph();
    let c = Counting(&g, Default::default());
    let tree = shortest_paths(&c, 0, &[t]);
    assert!(tree.pieces(&g, t).is_some());
    assert!(c.1.get() < 10, "expanded {} nodes", c.1.get());
}

#[test]
fn long_paths_keep_both_ends_around_a_gap() {
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    // 100 alternating steps: no run collapses.
    let mut prev = global;
    for i in 0..100 {
        let next = b.node(kind::OBJECT, if i % 2 == 0 { "A" } else { "B" });
        b.edge(
            prev,
            edge::PROPERTY,
            if i % 2 == 0 { "a" } else { "b" },
            next,
        );
        prev = next;
    }
    let p = path_to(&b, prev).unwrap();
    let parts: Vec<&str> = p.split(" → ").collect();
    assert_eq!(parts.len(), MAX_PARTS + 1);
    assert_eq!(parts[0], "global");
    assert_eq!(
        parts[MAX_PARTS / 2],
        format!("… {} steps …", 101 - MAX_PARTS)
    );
    assert_eq!(*parts.last().unwrap(), "b (B)");
}

#[test]
fn distinct_paths_ignore_slots_and_are_counted() {
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let cache = b.node(kind::OBJECT, "Map");
    let table = b.node(kind::ARRAY, "");
    let list = b.node(kind::OBJECT, "Array");
    b.edge(global, edge::PROPERTY, "cache", cache);
    b.edge(cache, edge::INTERNAL, "table", table);
    b.edge(global, edge::PROPERTY, "list", list);
    let mut groups = Groups::new(&[]);
    let g_s = groups.intern(b"Session");
    let mut new_nodes = Vec::new();
    for i in 0..30 {
        let s = b.node(kind::OBJECT, "Session");
        if i < 20 {
            b.edge(table, edge::INTERNAL, &format!("{}", 3 * i + 2), s);
        } else {
            b.edge(list, edge::ELEMENT, &format!("{}", i - 20), s);
        }
        new_nodes.push((g_s, s));
    }
    let g = b.graph();
    let names = b.names();
    let mut diff = diff_of(vec![detail("Other", 1, 10), detail("Session", 30, 960)]);
    explain_compact(&g, &mut diff, &groups, &new_nodes, &Ask::top(2), |want| {
        Ok(want.iter().map(|i| (*i, names[i].clone())).collect())
    })
    .unwrap();
    assert_eq!(
        diff.details[0].retainers, None,
        "a group with no new node known"
    );
    let r = diff.details[1].retainers.clone().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].count, 20);
    assert_eq!(r[0].path, "global → cache (Map) → table → [2] (Session)");
    assert_eq!(r[1].count, 10);
    assert_eq!(r[1].path, "global → list (Array) → [0] (Session)");
    // n = 1 keeps the most frequent only.
    let mut diff = diff_of(vec![detail("Session", 30, 960)]);
    explain_compact(&g, &mut diff, &groups, &new_nodes, &Ask::top(1), |want| {
        Ok(want.iter().map(|i| (*i, names[i].clone())).collect())
    })
    .unwrap();
    assert_eq!(diff.details[0].retainers.clone().unwrap().len(), 1);
}

#[test]
fn the_five_groups_with_most_new_nodes_then_bytes_are_picked() {
    let mut groups = Groups::new(&[]);
    let names = ["A", "B", "C", "D", "E", "F", "G"];
    let ids: Vec<u32> = names.iter().map(|n| groups.intern(n.as_bytes())).collect();
    let diff = diff_of(vec![
        detail("A", 10, 100_000),
        detail("B", 500, 100),
        detail("C", 500, 900),
        detail("D", 20, 10),
        detail("E", 30, 10),
        detail("F", 40, 10),
        detail("G", 1000, 10),
    ]);
    // G has no new node known by node (keyed), so it is not picked.
    let new_nodes: Vec<(u32, u32)> = ids[..6]
        .iter()
        .flat_map(|&g| (0..600).map(move |k| (g, g * 1000 + k)))
        .collect();
    let picks = pick(&diff, &groups, &new_nodes, &Ask::top(3));
    let what: Vec<&str> = picks
        .iter()
        .map(|p| diff.details[p.detail].what.as_str())
        .collect();
    assert_eq!(what, ["C", "B", "F", "E", "D"]);
    for p in &picks {
        assert_eq!(p.targets.len(), samples_for(3));
        let mut sorted = p.targets.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), p.targets.len(), "spread over distinct nodes");
    }
    assert_eq!(samples_for(1), 16);
    assert_eq!(samples_for(100), 256);
}

#[test]
fn named_groups_are_picked_whatever_their_rank_and_only_those() {
    let mut groups = Groups::new(&[]);
    let names = ["A", "B", "C", "D", "E", "F", "G"];
    let ids: Vec<u32> = names.iter().map(|n| groups.intern(n.as_bytes())).collect();
    let diff = diff_of(vec![
        detail("A", 10, 100_000),
        detail("B", 500, 100),
        detail("C", 500, 900),
        detail("D", 20, 10),
        detail("E", 30, 10),
        detail("F", 40, 10),
        detail("G", 1000, 10),
        detail("H", 0, 10),
    ]);
    // A is ranked sixth by new nodes: the top five leave it out.
    let new_nodes: Vec<(u32, u32)> = ids[..6]
        .iter()
        .flat_map(|&g| (0..600).map(move |k| (g, g * 1000 + k)))
        .collect();
    let picked = |ask: &Ask| -> Vec<String> {
        pick(&diff, &groups, &new_nodes, ask)
            .iter()
            .map(|p| diff.details[p.detail].what.clone())
            .collect()
    };
    assert!(!picked(&Ask::top(1)).contains(&"A".to_owned()));
    let only_a = Ask {
        n: 1,
        groups: Some(vec!["A".into()]),
    };
    assert_eq!(picked(&only_a), ["A"]);
    let a_targets = &pick(&diff, &groups, &new_nodes, &only_a)[0].targets;
    assert_eq!(a_targets.len(), samples_for(1));
    assert!(
        a_targets.iter().all(|&t| t / 1000 == ids[0]),
        "A's nodes only"
    );
    // More than five named: all of them, ranked as usual. Unknown names, a
    // group with no new node (H) and one with none known by node (G) are
    // left out; a name given twice counts once.
    let many = Ask {
        n: 2,
        groups: Some(
            ["A", "B", "C", "D", "E", "F", "G", "H", "Nope", "A"]
                .map(String::from)
                .to_vec(),
        ),
    };
    assert_eq!(picked(&many), ["C", "B", "F", "E", "D", "A"]);
    let none = Ask {
        n: 1,
        groups: Some(vec!["Nope".into(), "H".into()]),
    };
    assert!(picked(&none).is_empty());
}

#[test]
fn a_named_group_outside_the_top_five_gets_its_path() {
    let mut b = Build::new();
    let (global, _) = with_roots(&mut b);
    let held = b.node(kind::OBJECT, "Array");
    b.edge(global, edge::PROPERTY, "held", held);
    let mut groups = Groups::new(&[]);
    let g_foo = groups.intern(b"Foo");
    let foo = b.node(kind::OBJECT, "Foo");
    b.edge(held, edge::ELEMENT, "0", foo);
    let mut new_nodes = vec![(g_foo, foo)];
    // Five groups with more new nodes, each held by the global object.
    let mut details = vec![detail("Foo", 1, 32)];
    for name in ["P", "Q", "R", "S", "T"] {
        let g = groups.intern(name.as_bytes());
        for _ in 0..3 {
            let n = b.node(kind::OBJECT, name);
            b.edge(global, edge::PROPERTY, name, n);
            new_nodes.push((g, n));
        }
        details.push(detail(name, 3, 96));
    }
    let g = b.graph();
    let names = b.names();
    let strings = |want: &[u32]| Ok(want.iter().map(|i| (*i, names[i].clone())).collect());
    let mut top = diff_of(details.clone());
    explain_compact(&g, &mut top, &groups, &new_nodes, &Ask::top(1), strings).unwrap();
    assert_eq!(
        top.details[0].retainers, None,
        "Foo is sixth: not explained"
    );
    assert_eq!(
        top.details.iter().filter(|d| d.retainers.is_some()).count(),
        5
    );
    let mut named = diff_of(details);
    let ask = Ask {
        n: 1,
        groups: Some(vec!["Foo".into()]),
    };
    explain_compact(&g, &mut named, &groups, &new_nodes, &ask, strings).unwrap();
    let r = named.details[0].retainers.clone().unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].path, "global → held (Array) → [0] (Foo)");
    assert_eq!(r[0].count, 1);
    assert!(
        named.details[1..].iter().all(|d| d.retainers.is_none()),
        "only the named group"
    );
}

#[test]
fn run_index_finds_exact_addresses_only() {
    // Three chunks (stride 40), out of address order, and a stray node.
    let addrs = [1000usize, 1040, 1080, 200, 240, 280, 5000, 5040];
    let ix = RunIndex::build(&addrs);
    assert!(ix.is_usable());
    for (i, &a) in addrs.iter().enumerate() {
        assert_eq!(ix.get(a), Some(i as u32));
    }
    for bad in [1020, 1120, 199, 0, 320, 5080, usize::MAX] {
        assert_eq!(ix.get(bad), None, "{bad}");
    }
    assert_eq!(ix.runs(), 3);
    // Overlapping runs make it unusable rather than ambiguous.
    assert!(!RunIndex::build(&[100, 140, 180, 140]).is_usable());
}

#[test]
fn labels_and_normalising() {
    assert_eq!(
        step_label(true, EdgeName::Str("x"), kind::OBJECT, "Object / global"),
        "global"
    );
    assert_eq!(
        step_label(false, EdgeName::Index(3), kind::OBJECT, "Fresh"),
        "[3] (Fresh)"
    );
    assert_eq!(
        step_label(false, EdgeName::Str("42"), kind::ARRAY, ""),
        "[42]"
    );
    assert_eq!(
        step_label(
            false,
            EdgeName::Str("ctx"),
            kind::HIDDEN,
            "system / Context"
        ),
        "ctx"
    );
    assert_eq!(
        step_label(false, EdgeName::Str("f"), kind::CLOSURE, "handler"),
        "f (handler)"
    );
    assert_eq!(
        step_label(false, EdgeName::Str("x"), kind::SYNTHETIC, "(Stack roots)"),
        "(Stack roots)"
    );
    assert_eq!(
        step_label(false, EdgeName::Str("s"), kind::STRING, "secret text"),
        "s"
    );
    assert_eq!(
        normalise("a → [12] → b[x] → next ×9 → … 40 steps … → [3] (S)"),
        "a → [#] → b[x] → next ×# → … # steps … → [#] (S)"
    );
}

#[test]
fn node_26_native_context_roots_print_as_global() {
    let mut b = Build::new();
    let context = b.node(kind::HIDDEN, "system / NativeContext");
    let global = b.node(kind::OBJECT, "global (global*)");
    let app = b.node(kind::OBJECT, "Object");
    b.edge(0, edge::ELEMENT, "1", context);
    b.edge(context, edge::INTERNAL, "global_object", global);
    b.edge(global, edge::PROPERTY, "app", app);
    assert_eq!(path_to(&b, app).unwrap(), "global → app (Object)");
}

#[test]
fn group_limits_name_what_was_given() {
    use super::limits::{count_fault, name_fault};
    assert_eq!(count_fault(0).as_deref(), Some("an empty array"));
    assert_eq!(count_fault(1), None);
    assert_eq!(count_fault(MAX_GROUPS), None);
    assert_eq!(count_fault(11).as_deref(), Some("an array of 11 names"));
    assert_eq!(name_fault(0).as_deref(), Some("an empty string"));
    assert_eq!(name_fault(MAX_GROUP_CHARS), None);
    assert_eq!(
        name_fault(1025).as_deref(),
        Some("a string of 1025 characters")
    );
}
