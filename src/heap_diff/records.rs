//! The compact form every snapshot source produces: one [`Record`] per heap
//! node (object id, group, self size), plus the [`Groups`] table that names
//! the groups. Pure data: no N-API, no V8.

use std::collections::HashMap;

/// `v8::HeapGraphNode::Type`, also the index into `snapshot.meta.node_types[0]`
/// of the JSON format in every V8 that Node 20–26 ships.
pub mod kind {
    pub const HIDDEN: u32 = 0;
    pub const ARRAY: u32 = 1;
    pub const STRING: u32 = 2;
    pub const OBJECT: u32 = 3;
    pub const CODE: u32 = 4;
    pub const CLOSURE: u32 = 5;
    pub const REGEXP: u32 = 6;
    pub const NUMBER: u32 = 7;
    pub const NATIVE: u32 = 8;
    pub const SYNTHETIC: u32 = 9;
    pub const CONS_STRING: u32 = 10;
    pub const SLICED_STRING: u32 = 11;
    pub const SYMBOL: u32 = 12;
    pub const BIGINT: u32 = 13;
    pub const OBJECT_SHAPE: u32 = 14;
}

/// For each node kind: its name in the JSON snapshot format and the group
/// its nodes are counted under. Objects (`None`) are grouped by constructor
/// name. The first eight group names are memwatch's; the rest are named after
/// the kind instead of being dropped from the details.
const KINDS: [(&str, Option<&str>); 15] = [
    ("hidden", Some("Hidden")),
    ("array", Some("Array")),
    ("string", Some("String")),
    ("object", None),
    ("code", Some("Code")),
    ("closure", Some("Closure")),
    ("regexp", Some("RegExp")),
    ("number", Some("Number")),
    ("native", Some("Native")),
    ("synthetic", Some("Synthetic")),
    ("concatenated string", Some("ConsString")),
    ("sliced string", Some("SlicedString")),
    ("symbol", Some("Symbol")),
    ("bigint", Some("BigInt")),
    ("object shape", Some("ObjectShape")),
];

/// The kind whose JSON `node_types` name is `name`, if known.
pub fn kind_from_json_name(name: &str) -> Option<u32> {
    KINDS.iter().position(|(n, _)| *n == name).map(|k| k as u32)
}

/// Objects whose constructor name is empty are counted under this group.
pub const ANONYMOUS: &str = "(anonymous)";

/// One heap node, 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Record {
    /// V8's object id, stable across snapshots of one isolate.
    pub id: u32,
    /// Index into the [`Groups`] the record was made with.
    pub group: u32,
    /// Self (shallow) size in bytes.
    pub size: u64,
}

const _: () = assert!(std::mem::size_of::<Record>() == 16);

/// True if V8 gives the node with this id a new id in every snapshot.
///
/// V8 numbers heap objects (and native nodes that report an address) with
/// odd ids that stay stable across snapshots, and hands the other embedder
/// nodes (Node's `Node / …` natives, some synthetic roots) even ids from a
/// counter, fresh in each snapshot. Those cannot be matched by id, so they are
/// matched by kind and name instead (see [`Groups::intern_keyed`]).
pub fn is_unstable_id(id: u32) -> bool {
    id.is_multiple_of(2)
}

/// Group names, interned: group names repeat heavily (a million objects of a
/// few hundred constructors), so each is stored once and records carry an
/// index. One table serves both snapshots of a diff.
///
/// A *keyed* group is a reported group plus a node name (e.g. "Native" +
/// "Node / BindingData"): records whose ids are not stable across snapshots
/// are matched by keyed group and counted under the reported one.
#[derive(Debug, Clone)]
pub struct Groups {
    names: Vec<String>,
    index: HashMap<Vec<u8>, u32>,
    excluded: Vec<bool>,
    /// For keyed groups the reported group, else the group itself.
    reported: Vec<u32>,
    by_kind: [u32; KINDS.len()],
}

impl Groups {
    /// A table whose groups named in `exclude` are marked excluded (their
    /// records are dropped from snapshots: the diff's own objects).
    pub fn new(exclude: &[&str]) -> Groups {
        let mut g = Groups {
            names: Vec::new(),
            index: HashMap::new(),
            excluded: Vec::new(),
            reported: Vec::new(),
            by_kind: [u32::MAX; KINDS.len()],
        };
        for (k, (_, fixed)) in KINDS.iter().enumerate() {
            if let Some(name) = fixed {
                g.by_kind[k] = g.intern_str(name);
            }
        }
        for name in exclude {
            let i = g.intern_str(name) as usize;
            g.excluded[i] = true;
        }
        g
    }

    fn intern_str(&mut self, name: &str) -> u32 {
        self.intern(name.as_bytes())
    }

    /// The group of an object whose constructor name is `name` (UTF-8; an
    /// invalid sequence is replaced).
    pub fn intern(&mut self, name: &[u8]) -> u32 {
        let name = if name.is_empty() {
            ANONYMOUS.as_bytes()
        } else {
            name
        };
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(String::from_utf8_lossy(name).into_owned());
        self.excluded.push(false);
        self.reported.push(i);
        self.index.insert(name.to_vec(), i);
        i
    }

    /// The keyed group of a node named `name` reported under `group`.
    pub fn intern_keyed(&mut self, group: u32, name: &[u8]) -> u32 {
        let group = self.reported(group);
        // 0xFF never occurs in UTF-8, so keys cannot collide with names.
        let mut key = Vec::with_capacity(5 + name.len());
        key.push(0xFF);
        key.extend_from_slice(&group.to_le_bytes());
        key.extend_from_slice(name);
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(self.name(group).to_owned());
        self.excluded.push(self.is_excluded(group));
        self.reported.push(group);
        self.index.insert(key, i);
        i
    }

    /// The group `g` is counted under: itself, or for a keyed group its
    /// reported group.
    pub fn reported(&self, g: u32) -> u32 {
        self.reported.get(g as usize).copied().unwrap_or(g)
    }

    /// True if `g` is a keyed group (its records are matched by name).
    pub fn is_keyed(&self, g: u32) -> bool {
        self.reported(g) != g
    }

    /// The group of a node of `kind` that is not an object. Unknown kinds get
    /// a group of their own named after the kind number.
    pub fn for_kind(&mut self, kind: u32) -> u32 {
        match self.by_kind.get(kind as usize) {
            Some(&g) if g != u32::MAX => g,
            _ => self.intern_str(&format!("Type {kind}")),
        }
    }

    /// The group for a kind known only by its JSON name (a kind newer than
    /// this table): named after the kind.
    pub fn for_unknown_kind_name(&mut self, name: &str) -> u32 {
        self.intern_str(&format!("Type {name}"))
    }

    /// The name of group `g`.
    pub fn name(&self, g: u32) -> &str {
        self.names
            .get(g as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }

    /// True if records of group `g` are dropped.
    pub fn is_excluded(&self, g: u32) -> bool {
        self.excluded.get(g as usize).copied().unwrap_or(false)
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Never true: the kinds' groups always exist.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Approximate heap bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        self.names.iter().map(|n| 2 * n.len() + 64).sum()
    }
}

/// One snapshot in compact form: records sorted by id, with totals.
#[derive(Debug, Clone, Default)]
pub struct RecordSet {
    /// Sorted by `id`; excluded groups removed.
    pub records: Vec<Record>,
    /// Sum of the records' sizes.
    pub size: u64,
    /// When the snapshot was taken, ms since the Unix epoch.
    pub time_ms: f64,
}

impl RecordSet {
    /// Drops records of excluded groups, sorts by id and sums the sizes.
    pub fn new(mut records: Vec<Record>, groups: &Groups, time_ms: f64) -> RecordSet {
        records.retain(|r| !groups.is_excluded(r.group));
        sort_by_id(&mut records);
        if records.capacity() > records.len() + records.len() / 8 {
            records.shrink_to_fit();
        }
        let size = records.iter().map(|r| r.size).sum();
        RecordSet {
            records,
            size,
            time_ms,
        }
    }

    /// Heap bytes held by the records.
    pub fn heap_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<Record>()
    }
}

/// Sorts records by id. V8 writes nodes in nearly ascending id order (in a
/// million nodes, a few dozen embedder nodes at the end are out of order),
/// so a long sorted prefix is kept as it is and only the rest is sorted and
/// merged into it, with a buffer the size of the rest; a mostly unsorted
/// input is sorted whole, in place.
fn sort_by_id(records: &mut [Record]) {
    let sorted = records
        .windows(2)
        .position(|w| w[0].id > w[1].id)
        .map_or(records.len(), |i| i + 1);
    let rest = records.len() - sorted;
    if rest == 0 {
        return;
    }
    if rest > records.len() / 8 {
        records.sort_unstable_by_key(|r| r.id);
        return;
    }
    let mut tail = records[sorted..].to_vec();
    tail.sort_unstable_by_key(|r| r.id);
    // Merge from the back: the last free slot takes the larger of the two
    // last unplaced records (the prefix's, on a tie, goes last).
    let (mut i, mut j) = (sorted, tail.len());
    for w in (0..records.len()).rev() {
        if j == 0 {
            break;
        }
        if i > 0 && records[i - 1].id > tail[j - 1].id {
            records[w] = records[i - 1];
            i -= 1;
        } else {
            records[w] = tail[j - 1];
            j -= 1;
        }
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
