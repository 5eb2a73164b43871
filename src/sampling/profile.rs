//! The sampling heap profile as plain data: allocation sites (stacks) with
//! their estimated live bytes and objects, largest first, and the diff of
//! two profiles. Pure: no N-API, no V8.

use std::collections::HashMap;

/// One node of V8's allocation tree (pre-order, the root first).
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    /// The caller's index; `None` for V8's `(root)`.
    pub parent: Option<usize>,
    pub function: String,
    pub script: String,
    /// 1-based position of the function; 0 when V8 has none.
    pub line: i32,
    pub column: i32,
    /// (object size, estimated count) of the live sampled allocations made
    /// in this function with this stack.
    pub allocations: Vec<(u64, u64)>,
}

/// One stack frame: the function and where it is defined (V8 reports the
/// function's position, not the allocating line).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// `(anonymous)` for a function without a name.
    pub function: String,
    /// Script (file) name or URL; empty for V8's own frames (`(V8 API)`).
    pub script: String,
    /// 1-based; 0 when V8 has no position.
    pub line: u32,
    pub column: u32,
}

/// The live sampled allocations of one allocation stack (or, in a diff,
/// their change).
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// The allocating function first, then its callers (as in a stack trace).
    pub frames: Vec<Frame>,
    /// Estimated bytes: Σ size × count.
    pub bytes: i64,
    /// Estimated objects (V8 scales each sample by its probability).
    pub count: i64,
}

/// A profile read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// When it was read, ms since the epoch.
    pub time_ms: f64,
    pub interval_bytes: u64,
    pub stack_depth: u32,
    /// Largest first.
    pub sites: Vec<Site>,
}

impl Profile {
    /// Estimated live bytes and objects over all sites.
    pub fn total(&self) -> (i64, i64) {
        total(&self.sites)
    }
}

/// Sums of bytes and counts.
pub fn total(sites: &[Site]) -> (i64, i64) {
    sites
        .iter()
        .fold((0, 0), |(b, c), s| (b + s.bytes, c + s.count))
}

fn frame(n: &TreeNode) -> Frame {
    Frame {
        function: if n.function.is_empty() {
            "(anonymous)".into()
        } else {
            n.function.clone()
        },
        script: n.script.clone(),
        line: n.line.max(0) as u32,
        column: n.column.max(0) as u32,
    }
}

/// Largest bytes first, then most objects, then by frames (a stable order).
fn sort(sites: &mut [Site]) {
    sites.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.frames.cmp(&b.frames))
    });
}

/// The sites of a pre-order tree: one per stack with allocations (stacks
/// with the same frames merged), largest first.
pub fn sites(tree: &[TreeNode]) -> Vec<Site> {
    let mut by_stack: HashMap<Vec<Frame>, (i64, i64)> = HashMap::new();
    for (i, n) in tree.iter().enumerate() {
        if n.allocations.is_empty() {
            continue;
        }
        let mut frames = Vec::new();
        let mut at = Some(i);
        let mut steps = 0;
        while let Some(j) = at.filter(|&j| j < tree.len() && steps <= tree.len()) {
            if tree[j].parent.is_some() {
                frames.push(frame(&tree[j]));
            }
            at = tree[j].parent;
            steps += 1;
        }
        let sat = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        let bytes = n.allocations.iter().fold(0i64, |t, &(size, count)| {
            t.saturating_add(sat(size.saturating_mul(count)))
        });
        let count = n
            .allocations
            .iter()
            .fold(0i64, |t, &(_, count)| t.saturating_add(sat(count)));
        let e = by_stack.entry(frames).or_default();
        e.0 = e.0.saturating_add(bytes);
        e.1 = e.1.saturating_add(count);
    }
    let mut out: Vec<Site> = by_stack
        .into_iter()
        .map(|(frames, (bytes, count))| Site {
            frames,
            bytes,
            count,
        })
        .collect();
    sort(&mut out);
    out
}

/// How each site changed from `before` to `after` (matched by their frames,
/// never by V8's node ids, which are not stable): the sites that changed,
/// the most grown first, the most shrunk last.
pub fn diff(before: &[Site], after: &[Site]) -> Vec<Site> {
    let mut change: HashMap<&[Frame], (i64, i64)> = HashMap::new();
    for s in after {
        let e = change.entry(&s.frames).or_default();
        e.0 = e.0.saturating_add(s.bytes);
        e.1 = e.1.saturating_add(s.count);
    }
    for s in before {
        let e = change.entry(&s.frames).or_default();
        e.0 = e.0.saturating_sub(s.bytes);
        e.1 = e.1.saturating_sub(s.count);
    }
    let mut out: Vec<Site> = change
        .into_iter()
        .filter(|(_, (b, c))| *b != 0 || *c != 0)
        .map(|(frames, (bytes, count))| Site {
            frames: frames.to_vec(),
            bytes,
            count,
        })
        .collect();
    sort(&mut out);
    out
}

/// The `top` sites that grew most in bytes from `before` to `after`.
pub fn grown(before: &[Site], after: &[Site], top: usize) -> Vec<Site> {
    let mut d = diff(before, after);
    d.retain(|s| s.bytes > 0);
    d.truncate(top);
    d
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
