//! Why is it alive: shortest retainer paths from the snapshot's root to
//! sample new objects of the groups that grew most. Pure: the graph is read
//! through [`Graph`], so the same search runs on V8's in-process snapshot
//! (edges through the FFI), on a JSON snapshot's [`CompactGraph`], or on
//! plain test data.
//!
//! The search is one breadth-first pass from the root, with one parent edge
//! per node (8 bytes per node), level by level, stopping after the level at
//! which the last target was reached, so every path is a shortest one. Like
//! DevTools' distances it runs in two phases: first from the root's own
//! children (the global objects: user roots), then from the synthetic "(GC
//! roots)" for what is still unreached, so a path starts at `global`, not at
//! the handle scope of the call that took the snapshot. Weak edges are never
//! followed, shortcut edges only from the root, and compiled code only when
//! it is a target. Nothing recurses: paths are read back iteratively.
//!
//! Only the steps printed are named (names can be costly: V8 allocates a JS
//! string per edge name): consecutive steps with the same [`Graph::step_key`]
//! form one run, printed once (`next (Node) ×184170`) when its first and
//! last steps read the same.

use std::collections::HashMap;

use super::diff::{Diff, RetainerPath};
use super::records::{kind, Groups};

/// `v8::HeapGraphEdge::Type`, also the order of `edge_types` in the JSON
/// snapshot format of every V8 that Node 20–26 ships.
pub mod edge {
    pub const CONTEXT: u32 = 0;
    pub const ELEMENT: u32 = 1;
    pub const PROPERTY: u32 = 2;
    pub const INTERNAL: u32 = 3;
    pub const HIDDEN: u32 = 4;
    pub const SHORTCUT: u32 = 5;
    pub const WEAK: u32 = 6;
    /// A type this table does not know (a later V8): followed as strong.
    pub const OTHER: u32 = 15;

    /// The edge type whose JSON `edge_types` name is `name`.
    pub fn from_json_name(name: &str) -> u32 {
        match name {
            "context" => CONTEXT,
            "element" => ELEMENT,
            "property" => PROPERTY,
            "internal" => INTERNAL,
            "hidden" => HIDDEN,
            "shortcut" => SHORTCUT,
            "weak" => WEAK,
            _ => OTHER,
        }
    }

    /// True for the types whose name is an index, not a string.
    pub fn is_indexed(t: u32) -> bool {
        t == ELEMENT || t == HIDDEN
    }
}

/// Marks a node not reached.
const NONE: u32 = u32::MAX;

/// How many groups get retainer paths: the ones that grew most.
pub const TOP_GROUPS: usize = 5;

/// Largest number of paths a caller may ask for per group.
pub const MAX_PATHS: u32 = 100;

/// Largest number of groups a caller may name (`end({ groups })`).
pub const MAX_GROUPS: usize = 10;

/// Longest group name a caller may give, in UTF-16 units (JS `length`).
pub const MAX_GROUP_CHARS: usize = 1024;

/// What a caller may name as groups to explain: 1 to [`MAX_GROUPS`] names,
/// each 1 to [`MAX_GROUP_CHARS`] UTF-16 units long. Each check returns
/// what the caller gave, for a `RangeError`, or `None` when it is fine.
pub mod limits {
    use super::{MAX_GROUPS, MAX_GROUP_CHARS};

    /// What the list must be, for messages.
    pub fn wanted() -> String {
        format!(
            "an array of 1 to {MAX_GROUPS} group names (non-empty strings of at most {MAX_GROUP_CHARS} characters)"
        )
    }

    /// What one name must be, for messages.
    pub fn wanted_name() -> String {
        format!("a non-empty string of at most {MAX_GROUP_CHARS} characters")
    }

    /// A list of `count` names that is empty or too long.
    pub fn count_fault(count: usize) -> Option<String> {
        match count {
            0 => Some("an empty array".to_owned()),
            n if n > MAX_GROUPS => Some(format!("an array of {n} names")),
            _ => None,
        }
    }

    /// A name of `chars` UTF-16 units that is empty or too long.
    pub fn name_fault(chars: usize) -> Option<String> {
        match chars {
            0 => Some("an empty string".to_owned()),
            n if n > MAX_GROUP_CHARS => Some(format!("a string of {n} characters")),
            _ => None,
        }
    }
}

/// What a caller asks to have explained: up to `n` paths per group, for
/// the [`TOP_GROUPS`] groups that grew most, or for the `groups` named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Paths per group, 1 to [`MAX_PATHS`].
    pub n: u32,
    /// The groups to explain by name (those of them with new nodes), in
    /// place of the ones that grew most.
    pub groups: Option<Vec<String>>,
}

impl Ask {
    /// Up to `n` paths for each of the groups that grew most.
    pub fn top(n: u32) -> Ask {
        Ask { n, groups: None }
    }
}

/// Parts (named steps or runs) printed per path; longer paths keep their
/// first and last halves around a `… N steps …` gap.
const MAX_PARTS: usize = 40;

/// Characters of a node or edge name printed.
const NAME_CHARS: usize = 60;

/// What the path of an object that only weak references hold reads.
pub const ONLY_WEAK: &str = "(reachable only through weak references)";

/// A heap graph as the search reads it.
pub trait Graph {
    /// Number of nodes; nodes are `0..node_count()`.
    fn node_count(&self) -> usize;
    /// The node's kind ([`kind`]).
    fn kind(&self, node: u32) -> u32;
    /// Calls `f(edge_type, to, ordinal)` for each outgoing edge of `node`,
    /// `ordinal` being its index among the node's edges. Edges to unknown
    /// nodes are left out.
    fn edges(&self, node: u32, f: &mut dyn FnMut(u32, u32, u32));
    /// A cheap key of a step: steps with equal keys are likely to print the
    /// same (a linked list's `next`), and a run of them is printed once.
    fn step_key(&self, step: Step) -> u128;
}

/// One edge of a path: `from` holds `to` through its edge `ordinal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Step {
    pub from: u32,
    pub ordinal: u32,
    pub to: u32,
}

/// The shortest-path tree: one parent edge per reached node.
pub struct Tree {
    root: u32,
    parent: Vec<u32>,
    via: Vec<u32>,
}

/// Bit `i` of a bitset.
fn bit(set: &[u64], i: u32) -> bool {
    set.get(i as usize / 64)
        .is_some_and(|w| w & (1 << (i % 64)) != 0)
}

/// Breadth-first search from `root` until every node of `targets` is
/// reached (then the level is finished, so paths stay shortest) or nothing
/// is left. Two phases: the root's non-synthetic children first (user
/// roots), then its synthetic ones ("(GC roots)") for what is left.
pub fn shortest_paths(g: &impl Graph, root: u32, targets: &[u32]) -> Tree {
    let n = g.node_count();
    let mut tree = Tree {
        root,
        parent: vec![NONE; n],
        via: vec![NONE; n],
    };
    if root as usize >= n {
        return tree;
    }
    let mut is_target = vec![0u64; n.div_ceil(64)];
    let mut missing = 0usize;
    for &t in targets {
        if (t as usize) < n && t != root && !bit(&is_target, t) {
            is_target[t as usize / 64] |= 1 << (t % 64);
            missing += 1;
        }
    }
    if missing == 0 {
        return tree;
    }
    let Tree { parent, via, .. } = &mut tree;
    parent[root as usize] = root;
    let mut queue: Vec<u32> = vec![root];
    let mut head = 0usize;
    let mut level_end = 1usize;
    let mut deferred: Vec<(u32, u32)> = Vec::new();
    let mut second_phase = false;
    loop {
        if head == level_end {
            if missing == 0 {
                break;
            }
            if head == queue.len() {
                if second_phase || deferred.is_empty() {
                    break;
                }
                second_phase = true;
                for (to, k) in std::mem::take(&mut deferred) {
                    if parent[to as usize] == NONE {
                        parent[to as usize] = root;
                        via[to as usize] = k;
                        queue.push(to);
                        if bit(&is_target, to) {
                            missing -= 1;
                        }
                    }
                }
                if head == queue.len() {
                    break;
                }
            }
            level_end = queue.len();
        }
        let node = queue[head];
        head += 1;
        g.edges(node, &mut |t, to, k| {
            if t == edge::WEAK || (t == edge::SHORTCUT && node != root) || to == node {
                return;
            }
            let slot = to as usize;
            if slot >= n || parent[slot] != NONE {
                return;
            }
            let target = bit(&is_target, to);
            let to_kind = g.kind(to);
            if to_kind == kind::CODE && !target {
                return;
            }
            if node == root && to_kind == kind::SYNTHETIC {
                deferred.push((to, k));
                return;
            }
            parent[slot] = node;
            via[slot] = k;
            queue.push(to);
            if target {
                missing -= 1;
            }
        });
    }
    tree
}

/// A printed part of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// One step.
    One(Step),
    /// `len` consecutive steps with the same key (printed once if the first
    /// and the last read the same).
    Run { first: Step, last: Step, len: u32 },
    /// Steps left out of a long path.
    Gap(u64),
}

impl Tree {
    /// The path from the root to `target` as printed parts, or `None` if it
    /// was not reached. Iterative; bounded by the node count.
    pub fn pieces(&self, g: &impl Graph, target: u32) -> Option<Vec<Piece>> {
        let mut at = target;
        if *self.parent.get(at as usize)? == NONE || at == self.root {
            return None;
        }
        // Walking back from the target: runs of equal keys, last step first.
        let mut runs: Vec<(Step, Step, u32, u128)> = Vec::new();
        let mut steps = 0usize;
        while self.parent[at as usize] != at {
            let step = Step {
                from: self.parent[at as usize],
                ordinal: self.via[at as usize],
                to: at,
            };
            let key = g.step_key(step);
            match runs.last_mut() {
                Some((first, _, len, k)) if *k == key && step.from != self.root => {
                    *first = step;
                    *len += 1;
                }
                _ => runs.push((step, step, 1, key)),
            }
            at = step.from;
            steps += 1;
            if steps > self.parent.len() {
                return None;
            }
        }
        runs.reverse();
        let piece = |&(first, last, len, _): &(Step, Step, u32, u128)| {
            if len == 1 {
                Piece::One(first)
            } else {
                Piece::Run { first, last, len }
            }
        };
        if runs.len() <= MAX_PARTS {
            return Some(runs.iter().map(piece).collect());
        }
        let keep = MAX_PARTS / 2;
        let gap: u64 = runs[keep..runs.len() - keep]
            .iter()
            .map(|r| u64::from(r.2))
            .sum();
        let mut out: Vec<Piece> = runs[..keep].iter().map(piece).collect();
        out.push(Piece::Gap(gap));
        out.extend(runs[runs.len() - keep..].iter().map(piece));
        Some(out)
    }
}

/// A group to explain: its index in the diff's details and the sample of
/// its new nodes to find paths to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub detail: usize,
    pub targets: Vec<u32>,
}

/// How many new objects of a group are sampled for `n` paths.
pub fn samples_for(n: u32) -> usize {
    (16 * n as usize).clamp(16, 256)
}

/// The groups to explain: the [`TOP_GROUPS`] details with the most new
/// nodes (`+`), then the most bytes, among those with new nodes known by
/// node, or, when `ask` names groups, every one of those that has new
/// nodes (in the same order); each with up to [`samples_for`]`(n)` of its
/// new nodes spread evenly over them. `new_nodes` holds (reported group,
/// node) of every new node, in snapshot order.
pub fn pick(diff: &Diff, groups: &Groups, new_nodes: &[(u32, u32)], ask: &Ask) -> Vec<Pick> {
    let mut by_name: HashMap<&str, Vec<u32>> = HashMap::new();
    for &(g, node) in new_nodes {
        by_name.entry(groups.name(g)).or_default().push(node);
    }
    let named = |what: &str| {
        ask.groups
            .as_ref()
            .is_none_or(|only| only.iter().any(|g| g == what))
    };
    let mut order: Vec<usize> = (0..diff.details.len())
        .filter(|&i| {
            let what = diff.details[i].what.as_str();
            diff.details[i].added > 0 && by_name.contains_key(what) && named(what)
        })
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&diff.details[a], &diff.details[b]);
        y.added
            .cmp(&x.added)
            .then(y.size_bytes.cmp(&x.size_bytes))
            .then_with(|| x.what.cmp(&y.what))
    });
    if ask.groups.is_none() {
        order.truncate(TOP_GROUPS);
    }
    let per = samples_for(ask.n);
    order
        .into_iter()
        .map(|i| {
            let all = &by_name[diff.details[i].what.as_str()];
            let targets = if all.len() <= per {
                all.clone()
            } else {
                (0..per).map(|k| all[k * all.len() / per]).collect()
            };
            Pick { detail: i, targets }
        })
        .collect()
}

/// The paths found for the picked groups, not yet named.
pub struct Plan {
    groups: Vec<PlannedGroup>,
}

struct PlannedGroup {
    detail: usize,
    paths: Vec<Vec<Piece>>,
    unreached: u64,
}

impl Plan {
    /// Searches `g` from `root` for the targets of `picks`.
    pub fn new(g: &impl Graph, root: u32, picks: Vec<Pick>) -> Plan {
        let targets: Vec<u32> = picks
            .iter()
            .flat_map(|p| p.targets.iter().copied())
            .collect();
        let tree = shortest_paths(g, root, &targets);
        let groups = picks
            .into_iter()
            .map(|p| {
                let mut paths = Vec::with_capacity(p.targets.len());
                let mut unreached = 0;
                for &t in &p.targets {
                    match tree.pieces(g, t) {
                        Some(path) => paths.push(path),
                        None => unreached += 1,
                    }
                }
                PlannedGroup {
                    detail: p.detail,
                    paths,
                    unreached,
                }
            })
            .collect();
        Plan { groups }
    }

    /// Every step that will be printed (each once).
    pub fn steps(&self) -> Vec<Step> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for g in &self.groups {
            for path in &g.paths {
                for piece in path {
                    let (a, b) = match *piece {
                        Piece::One(s) => (Some(s), None),
                        Piece::Run { first, last, .. } => (Some(first), Some(last)),
                        Piece::Gap(_) => (None, None),
                    };
                    for s in [a, b].into_iter().flatten() {
                        if seen.insert(s) {
                            out.push(s);
                        }
                    }
                }
            }
        }
        out
    }

    /// Prints the paths with `label(step)` (the text of one step, see
    /// [`step_label`]) and puts up to `n` distinct ones, most frequent first,
    /// into each picked detail's `retainers`.
    pub fn render(self, diff: &mut Diff, n: u32, mut label: impl FnMut(Step) -> String) {
        let mut cache: HashMap<Step, String> = HashMap::new();
        let mut text = |s: Step| cache.entry(s).or_insert_with(|| label(s)).clone();
        for g in self.groups {
            // normalised path -> (count, first example)
            let mut counts: HashMap<String, (u64, String)> = HashMap::new();
            for path in &g.paths {
                let mut parts: Vec<String> = Vec::with_capacity(path.len());
                for piece in path {
                    match *piece {
                        Piece::One(s) => parts.push(text(s)),
                        Piece::Run { first, last, len } => {
                            let (a, b) = (text(first), text(last));
                            if a == b {
                                parts.push(format!("{a} ×{len}"));
                            } else {
                                parts.push(a);
                                if len > 2 {
                                    parts.push(format!("… {} steps …", len - 2));
                                }
                                parts.push(b);
                            }
                        }
                        Piece::Gap(k) => parts.push(format!("… {k} steps …")),
                    }
                }
                tidy(&mut parts);
                let s = parts.join(" → ");
                counts
                    .entry(normalise(&s))
                    .and_modify(|e| e.0 += 1)
                    .or_insert((1, s));
            }
            let mut paths: Vec<RetainerPath> = counts
                .into_values()
                .map(|(count, path)| RetainerPath { path, count })
                .collect();
            if g.unreached > 0 {
                paths.push(RetainerPath {
                    path: ONLY_WEAK.into(),
                    count: g.unreached,
                });
            }
            paths.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.path.cmp(&b.path)));
            paths.truncate(n as usize);
            if let Some(d) = diff.details.get_mut(g.detail) {
                d.retainers = Some(paths);
            }
        }
    }
}

/// An edge's name: a string, or an index (elements, hidden edges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EdgeName<'a> {
    Str(&'a str),
    Index(u64),
}

fn bounded(s: &str) -> String {
    crate::text::bounded(s, NAME_CHARS)
}

/// The text of one step: the edge's name, then the node's name in
/// parentheses for objects, closures and natives (`sessions (Map)`,
/// `[0] (handler)`); synthetic nodes by name; a step from the root (`first`)
/// by the node's name alone (`global`). Index-like names print as `[i]`.
pub fn step_label(first: bool, name: EdgeName<'_>, node_kind: u32, node: &str) -> String {
    let node = node.strip_prefix("Object / ").unwrap_or(node);
    if first || node_kind == kind::SYNTHETIC {
        return bounded(if node.is_empty() { "(root)" } else { node });
    }
    let edge = match name {
        EdgeName::Index(i) => format!("[{i}]"),
        EdgeName::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            format!("[{s}]")
        }
        EdgeName::Str("") => "?".into(),
        EdgeName::Str(s) => bounded(s),
    };
    let named = matches!(node_kind, kind::OBJECT | kind::CLOSURE | kind::NATIVE);
    if named && !node.is_empty() {
        format!("{edge} ({})", bounded(node))
    } else {
        edge
    }
}

/// Shortens what a path starts with when it says more than `global`: from
/// Node 26 on, V8 roots the global object at its native context
/// (`system / NativeContext → global_object (global (global*))`).
fn tidy(parts: &mut Vec<String>) {
    if parts.len() >= 2
        && parts[0] == "system / NativeContext"
        && parts[1].starts_with("global_object")
    {
        parts.splice(0..2, ["global".to_owned()]);
    }
}

/// A path with element indexes and repeat counts taken out, so paths that
/// differ only in which slot or how deep count as one.
pub fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(c) = rest.chars().next() {
        out.push(c);
        rest = &rest[c.len_utf8()..];
        if matches!(c, '[' | '×' | '…') {
            let digits = rest
                .trim_start_matches(' ')
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            let after = &rest[spaces + digits..];
            if digits > 0 && (c != '[' || after.starts_with(']')) {
                out.push_str(&rest[..spaces]);
                out.push('#');
                rest = after;
            }
        }
    }
    out
}

/// Node address → snapshot index, from the addresses `GetNode(i)` returned
/// in index order, without a hash map: maximal runs of consecutive indexes
/// whose addresses advance by one stride are stored as (base, first index,
/// length), sorted by base. A lookup is a binary search and an exact check
/// that the address is `base + k × stride` inside a run, so it can only ever
/// return `i` for the address `GetNode(i)` gave. It assumes nothing about
/// V8's storage: another layout only makes more runs (overlapping runs make
/// it unusable, and the caller says so).
pub struct RunIndex {
    runs: Vec<(usize, u32, u32)>,
    stride: usize,
}

impl RunIndex {
    /// `addrs[i]` is the address of node `i`.
    pub fn build(addrs: &[usize]) -> RunIndex {
        let mut gaps: HashMap<usize, usize> = HashMap::new();
        for w in addrs.windows(2).take(1 << 14) {
            if w[1] > w[0] {
                *gaps.entry(w[1] - w[0]).or_default() += 1;
            }
        }
        let stride = gaps
            .into_iter()
            .max_by_key(|&(gap, c)| (c, std::cmp::Reverse(gap)))
            .map(|(g, _)| g)
            .unwrap_or(1)
            .max(1);
        let mut runs: Vec<(usize, u32, u32)> = Vec::new();
        for (i, &a) in addrs.iter().enumerate() {
            if let Some(last) = runs.last_mut() {
                if Some(a) == last.0.checked_add(last.2 as usize * stride) {
                    last.2 += 1;
                    continue;
                }
            }
            runs.push((a, i as u32, 1));
        }
        runs.sort_unstable_by_key(|r| r.0);
        let overlap = runs
            .windows(2)
            .any(|w| w[0].0 + (w[0].2 as usize - 1) * stride >= w[1].0);
        if overlap {
            runs.clear();
        }
        runs.shrink_to_fit();
        RunIndex { runs, stride }
    }

    /// The index of the node at `addr`, if `GetNode` gave that address.
    pub fn get(&self, addr: usize) -> Option<u32> {
        let pos = self.runs.partition_point(|r| r.0 <= addr);
        let (base, first, len) = *self.runs.get(pos.checked_sub(1)?)?;
        let off = addr - base;
        if !off.is_multiple_of(self.stride) {
            return None;
        }
        let k = off / self.stride;
        (k < len as usize).then(|| first + k as u32)
    }

    /// False when the addresses overlapped (no lookup can be trusted).
    pub fn is_usable(&self) -> bool {
        !self.runs.is_empty()
    }

    /// Number of runs (its memory is 16 bytes per run).
    pub fn runs(&self) -> usize {
        self.runs.len()
    }
}

/// A heap graph in compact arrays: what the JSON snapshot reader keeps of
/// the edges when retainer paths are asked for (9 bytes per edge, 9 per
/// node), and what an offline analysis of `.heapsnapshot` files searches.
/// Names are string-table indexes, resolved only for the printed steps.
#[derive(Debug, Clone, Default)]
pub struct CompactGraph {
    /// Node `i`'s edges are `edge_start[i]..edge_start[i + 1]`.
    pub edge_start: Vec<u32>,
    /// Target node of each edge.
    pub edge_to: Vec<u32>,
    /// Type of each edge ([`edge`]).
    pub edge_type: Vec<u8>,
    /// String index (named types) or index (element, hidden) of each edge.
    pub edge_name: Vec<u32>,
    /// Kind of each node ([`kind`]).
    pub node_kind: Vec<u8>,
    /// String index of each node's name.
    pub node_name: Vec<u32>,
}

impl CompactGraph {
    /// Edge number of `step` in the arrays.
    fn edge_of(&self, step: Step) -> Option<usize> {
        let start = *self.edge_start.get(step.from as usize)? as usize;
        let end = *self.edge_start.get(step.from as usize + 1)? as usize;
        let e = start + step.ordinal as usize;
        (e < end).then_some(e)
    }

    /// The string indexes the printed steps of `plan` need (edge and node
    /// names), sorted and distinct.
    pub fn strings_for(&self, steps: &[Step]) -> Vec<u32> {
        let mut out = Vec::with_capacity(steps.len() * 2);
        for &s in steps {
            if let Some(e) = self.edge_of(s) {
                if !edge::is_indexed(u32::from(self.edge_type[e])) {
                    out.push(self.edge_name[e]);
                }
            }
            if let Some(&n) = self.node_name.get(s.to as usize) {
                out.push(n);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The text of `step`, names looked up in `strings` (index → string).
    pub fn label(&self, root: u32, step: Step, strings: &HashMap<u32, String>) -> String {
        let Some(e) = self.edge_of(step) else {
            return "?".into();
        };
        let t = u32::from(self.edge_type[e]);
        let name = if edge::is_indexed(t) {
            EdgeName::Index(u64::from(self.edge_name[e]))
        } else {
            EdgeName::Str(strings.get(&self.edge_name[e]).map_or("", String::as_str))
        };
        let node = self
            .node_name
            .get(step.to as usize)
            .and_then(|i| strings.get(i))
            .map_or("", String::as_str);
        let k = self
            .node_kind
            .get(step.to as usize)
            .map_or(kind::HIDDEN, |&k| u32::from(k));
        step_label(step.from == root, name, k, node)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.edge_start.capacity() * 4
            + self.edge_to.capacity() * 4
            + self.edge_type.capacity()
            + self.edge_name.capacity() * 4
            + self.node_kind.capacity()
            + self.node_name.capacity() * 4
    }
}

impl Graph for CompactGraph {
    fn node_count(&self) -> usize {
        self.node_kind.len()
    }

    fn kind(&self, node: u32) -> u32 {
        self.node_kind
            .get(node as usize)
            .map_or(kind::HIDDEN, |&k| u32::from(k))
    }

    fn edges(&self, node: u32, f: &mut dyn FnMut(u32, u32, u32)) {
        let (Some(&start), Some(&end)) = (
            self.edge_start.get(node as usize),
            self.edge_start.get(node as usize + 1),
        ) else {
            return;
        };
        for e in start..end {
            let e = e as usize;
            f(
                u32::from(self.edge_type[e]),
                self.edge_to[e],
                e as u32 - start,
            );
        }
    }

    fn step_key(&self, step: Step) -> u128 {
        let Some(e) = self.edge_of(step) else {
            return u128::MAX;
        };
        let to = step.to as usize;
        u128::from(self.edge_type[e])
            | u128::from(self.edge_name[e]) << 8
            | u128::from(self.node_kind.get(to).copied().unwrap_or(0)) << 40
            | u128::from(self.node_name.get(to).copied().unwrap_or(0)) << 48
    }
}

/// Retainer paths for the groups of `diff` that `ask` picks ([`pick`]),
/// from a compact graph (a JSON snapshot): the pure core an offline
/// analysis calls. `new_nodes` are (reported group, node) of the new
/// nodes; `strings` resolves string indexes (called once, with the ones
/// needed).
pub fn explain_compact(
    graph: &CompactGraph,
    diff: &mut Diff,
    groups: &Groups,
    new_nodes: &[(u32, u32)],
    ask: &Ask,
    strings: impl FnOnce(&[u32]) -> Result<HashMap<u32, String>, String>,
) -> Result<(), String> {
    let picks = pick(diff, groups, new_nodes, ask);
    for p in &picks {
        diff.details[p.detail].retainers = Some(Vec::new());
    }
    if picks.is_empty() {
        return Ok(());
    }
    let plan = Plan::new(graph, 0, picks);
    let steps = plan.steps();
    let names = strings(&graph.strings_for(&steps))?;
    plan.render(diff, ask.n, |s| graph.label(0, s, &names));
    Ok(())
}

#[cfg(test)]
#[path = "retainers_tests.rs"]
mod tests;
