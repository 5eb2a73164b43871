//! Snapshot source for V8's JSON heap snapshot format (what
//! `v8.writeHeapSnapshot()` writes and `.heapsnapshot` files hold), read as a
//! stream: the text is never held whole, edges and unused sections are
//! skipped byte by byte, and of the string table only the names that group
//! nodes are kept.
//!
//! The node layout is looked up by name in `snapshot.meta` (`node_fields`,
//! `node_types`), since it differs across V8 versions (e.g. `detachedness`
//! was added). `snapshot` comes first in every file V8 writes and `strings`
//! last, so object nodes first get a provisional group per name string index,
//! resolved once the strings are read.
//!
//! When retainer paths are asked for ([`read_with_graph`]), the edges are
//! kept too, in a [`CompactGraph`] (9 bytes per edge), and the byte offset
//! of the string table is remembered, so that the few names the printed
//! paths need are read afterwards ([`read_strings_at`]) instead of holding
//! every string.

use rustc_hash::FxHashMap as HashMap;
use std::io::{self, Read, Seek, SeekFrom};

use super::records::{is_unstable_id, kind, kind_from_json_name, Groups, Record};
use super::retainers::{edge, CompactGraph};

/// Why a snapshot could not be read.
#[derive(Debug)]
pub struct JsonError(pub String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<io::Error> for JsonError {
    fn from(e: io::Error) -> Self {
        JsonError(format!("reading heap snapshot: {e}"))
    }
}

type Result<T> = std::result::Result<T, JsonError>;

/// Marks a record's group as "pending: slot of a name string".
const PENDING: u32 = 1 << 31;
/// How a pending slot is grouped: an object by its name, an object without
/// a stable id by its name and keyed by it; any other value is the group a
/// node without a stable id is keyed under.
const BY_NAME: u32 = u32::MAX;
const BY_NAME_KEYED: u32 = u32::MAX - 1;

/// Reads a JSON heap snapshot into records; object nodes are grouped by
/// name in `groups`. Records come in file order (unsorted), excluded groups
/// included.
pub fn read_records<R: Read>(reader: R, groups: &mut Groups) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    let names = stream_records(reader, groups, |r| records.push(r))?;
    for r in &mut records {
        r.group = names.group(r.group);
    }
    Ok(records)
}

/// The final groups of the records [`stream_records`] handed out: an object
/// node's group is known only once the strings (the last section) are read.
pub struct Names {
    resolved: Vec<u32>,
}

impl Names {
    /// The group of a streamed record whose `group` was `raw`.
    pub fn group(&self, raw: u32) -> u32 {
        if raw & PENDING != 0 {
            self.resolved[(raw & !PENDING) as usize]
        } else {
            raw
        }
    }

    /// True if `raw` is a provisional group (to be mapped by [`Names::group`]).
    pub fn is_pending(raw: u32) -> bool {
        raw & PENDING != 0
    }

    /// Provisional groups handed out (each below `PENDING | count`).
    pub fn pending_count(&self) -> usize {
        self.resolved.len()
    }
}

/// What [`read_with_graph`] returns.
pub struct WithGraph {
    /// As [`read_records`] returns them (node `i` of the graph is record `i`).
    pub records: Vec<Record>,
    /// The nodes' kinds and names and every edge.
    pub graph: CompactGraph,
    /// Byte offset of the string table's value, for [`read_strings_at`].
    pub strings_at: u64,
}

/// [`read_records`], keeping the graph as well (for retainer paths).
pub fn read_with_graph<R: Read>(reader: R, groups: &mut Groups) -> Result<WithGraph> {
    let mut records = Vec::new();
    let mut graph = CompactGraph::default();
    let (names, strings_at) = stream(reader, groups, |r| records.push(r), Some(&mut graph))?;
    for r in &mut records {
        r.group = names.group(r.group);
    }
    finish_graph(&mut graph)?;
    let strings_at =
        strings_at.ok_or_else(|| JsonError("no \"strings\" in heap snapshot".into()))?;
    Ok(WithGraph {
        records,
        graph,
        strings_at,
    })
}

/// Hands each node of a JSON heap snapshot to `on_node` in file order while
/// reading, so no record set is held. A record's `group` may be provisional
/// ([`Names::is_pending`]); the returned [`Names`] maps it to its group.
pub fn stream_records<R: Read>(
    reader: R,
    groups: &mut Groups,
    on_node: impl FnMut(Record),
) -> Result<Names> {
    stream(reader, groups, on_node, None).map(|(names, _)| names)
}

/// [`stream_records`], and with `graph` the edges and the nodes' kinds and
/// names kept, and the offset of the string table returned.
fn stream<R: Read>(
    reader: R,
    groups: &mut Groups,
    mut on_node: impl FnMut(Record),
    mut graph: Option<&mut CompactGraph>,
) -> Result<(Names, Option<u64>)> {
    let mut edges_seen = false;
    let mut strings_at = None;
    let mut s = Scanner::new(reader);
    let mut layout: Option<NodeLayout> = None;
    let mut nodes_seen = false;
    // (name string index, how to group) -> provisional slot; slot -> name
    let mut slots: HashMap<(u32, u32), u32> = HashMap::default();
    let mut names: Vec<Option<Vec<u8>>> = Vec::new();
    let mut strings_seen = false;
    let mut key = Vec::new();

    s.expect(b'{')?;
    if s.peek_token()? == b'}' {
        return Err(JsonError("empty heap snapshot".into()));
    }
    loop {
        s.read_string(&mut key)?;
        s.expect(b':')?;
        match key.as_slice() {
            b"snapshot" => {
                let mut raw = Vec::new();
                s.capture_value(&mut raw)?;
                layout = Some(NodeLayout::from_snapshot(&raw, groups)?);
            }
            b"nodes" => {
                let l = layout.as_ref().ok_or_else(|| {
                    JsonError("\"nodes\" comes before \"snapshot\" (no meta to read it)".into())
                })?;
                read_nodes(
                    &mut s,
                    l,
                    groups,
                    &mut slots,
                    &mut on_node,
                    graph.as_deref_mut(),
                )?;
                nodes_seen = true;
                names = vec![None; slots.len()];
            }
            b"edges" if graph.is_some() => {
                let l = layout.as_ref().ok_or_else(|| {
                    JsonError("\"edges\" comes before \"snapshot\" (no meta to read it)".into())
                })?;
                if let Some(g) = graph.as_deref_mut() {
                    read_edges(&mut s, l, g)?;
                }
                edges_seen = true;
            }
            b"strings" => {
                if !nodes_seen {
                    return Err(JsonError("\"strings\" comes before \"nodes\"".into()));
                }
                strings_at = Some(s.offset());
                read_strings(&mut s, &slots, &mut names)?;
                strings_seen = true;
            }
            _ => s.skip_value()?,
        }
        match s.next_token()? {
            b',' => continue,
            b'}' => break,
            b => return Err(s.error(&format!("expected ',' or '}}', found {:?}", b as char))),
        }
    }
    if !nodes_seen {
        return Err(JsonError("no \"nodes\" in heap snapshot".into()));
    }
    if !slots.is_empty() && !strings_seen {
        return Err(JsonError("no \"strings\" in heap snapshot".into()));
    }
    if graph.is_some() && !edges_seen {
        return Err(JsonError("no \"edges\" in heap snapshot".into()));
    }
    let mut resolved = vec![0u32; names.len()];
    for (&(_, how), &slot) in &slots {
        let name = names[slot as usize].as_deref().unwrap_or(b"");
        resolved[slot as usize] = match how {
            BY_NAME => groups.intern(name),
            BY_NAME_KEYED => {
                let g = groups.intern(name);
                groups.intern_keyed(g, name)
            }
            group => groups.intern_keyed(group, name),
        };
    }
    Ok((Names { resolved }, strings_at))
}

/// Turns the per-node edge counts into offsets and checks that the edges
/// and nodes agree.
fn finish_graph(g: &mut CompactGraph) -> Result<()> {
    let nodes = g.node_kind.len();
    if g.edge_start.len() != nodes {
        return Err(JsonError("node edge counts do not match the nodes".into()));
    }
    let mut at = 0u32;
    for c in &mut g.edge_start {
        let n = *c;
        *c = at;
        at = at
            .checked_add(n)
            .ok_or_else(|| JsonError("more than 2^32 edges".into()))?;
    }
    g.edge_start.push(at);
    if at as usize != g.edge_to.len() {
        return Err(JsonError(format!(
            "the nodes have {at} edges but \"edges\" holds {}",
            g.edge_to.len()
        )));
    }
    if let Some(&bad) = g.edge_to.iter().find(|&&to| to as usize >= nodes) {
        return Err(JsonError(format!(
            "an edge points to node {bad} of {nodes}"
        )));
    }
    Ok(())
}

/// How a node's kind maps to a group.
#[derive(Debug, Clone, Copy)]
enum KindRule {
    ByName,
    Fixed(u32),
}

/// Where the needed fields sit in each node, from `snapshot.meta`.
#[derive(Debug)]
struct NodeLayout {
    stride: usize,
    type_at: usize,
    name_at: usize,
    id_at: usize,
    size_at: usize,
    kinds: Vec<KindRule>,
    /// For the graph: where `edge_count` sits, each type's [`kind`].
    edge_count_at: Option<usize>,
    kind_ids: Vec<u8>,
    edges: Option<EdgeLayout>,
}

/// Where the edge fields sit, from `snapshot.meta`.
#[derive(Debug)]
struct EdgeLayout {
    stride: usize,
    type_at: usize,
    name_at: usize,
    to_at: usize,
    types: Vec<u8>,
}

impl EdgeLayout {
    fn from_meta(meta: &serde_json::Value) -> Option<EdgeLayout> {
        let fields: Vec<&str> = meta
            .get("edge_fields")?
            .as_array()?
            .iter()
            .map(|f| f.as_str().unwrap_or(""))
            .collect();
        let at = |name: &str| fields.iter().position(|f| *f == name);
        let type_at = at("type")?;
        let types = meta
            .get("edge_types")?
            .get(type_at)?
            .as_array()?
            .iter()
            .map(|t| edge::from_json_name(t.as_str().unwrap_or("")) as u8)
            .collect();
        Some(EdgeLayout {
            stride: fields.len(),
            type_at,
            name_at: at("name_or_index")?,
            to_at: at("to_node")?,
            types,
        })
    }
}

impl NodeLayout {
    fn from_snapshot(raw: &[u8], groups: &mut Groups) -> Result<NodeLayout> {
        let v: serde_json::Value = serde_json::from_slice(raw)
            .map_err(|e| JsonError(format!("bad \"snapshot\" section: {e}")))?;
        let meta = v
            .get("meta")
            .ok_or_else(|| JsonError("no snapshot.meta".into()))?;
        let fields: Vec<&str> = meta
            .get("node_fields")
            .and_then(|f| f.as_array())
            .ok_or_else(|| JsonError("no snapshot.meta.node_fields".into()))?
            .iter()
            .map(|f| f.as_str().unwrap_or(""))
            .collect();
        let at = |name: &str| {
            fields
                .iter()
                .position(|f| *f == name)
                .ok_or_else(|| JsonError(format!("snapshot.meta.node_fields has no {name:?}")))
        };
        let (type_at, name_at, id_at, size_at) =
            (at("type")?, at("name")?, at("id")?, at("self_size")?);
        let type_names = meta
            .get("node_types")
            .and_then(|t| t.get(type_at))
            .and_then(|t| t.as_array())
            .ok_or_else(|| {
                JsonError("snapshot.meta.node_types has no list of node types".into())
            })?;
        let kind_ids = type_names
            .iter()
            .map(|t| kind_from_json_name(t.as_str().unwrap_or("")).map_or(u8::MAX, |k| k as u8))
            .collect();
        let kinds = type_names
            .iter()
            .map(|t| {
                let name = t.as_str().unwrap_or("");
                match kind_from_json_name(name) {
                    Some(kind::OBJECT) => KindRule::ByName,
                    Some(k) => KindRule::Fixed(groups.for_kind(k)),
                    None => KindRule::Fixed(groups.for_unknown_kind_name(name)),
                }
            })
            .collect();
        Ok(NodeLayout {
            stride: fields.len(),
            type_at,
            name_at,
            id_at,
            size_at,
            kinds,
            edge_count_at: at("edge_count").ok(),
            kind_ids,
            edges: EdgeLayout::from_meta(meta),
        })
    }
}

fn read_nodes<R: Read>(
    s: &mut Scanner<R>,
    l: &NodeLayout,
    groups: &mut Groups,
    slots: &mut HashMap<(u32, u32), u32>,
    on_node: &mut impl FnMut(Record),
    mut graph: Option<&mut CompactGraph>,
) -> Result<()> {
    let edge_count_at = match (&graph, l.edge_count_at) {
        (None, _) => usize::MAX,
        (Some(_), Some(at)) => at,
        (Some(_), None) => {
            return Err(JsonError(
                "snapshot.meta.node_fields has no \"edge_count\"".into(),
            ))
        }
    };
    let mut field = 0usize;
    let (mut t, mut name, mut id, mut size, mut edges) = (0u64, 0u64, 0u64, 0u64, 0u64);
    s.expect(b'[')?;
    if s.peek_token()? == b']' {
        s.bump();
        return Ok(());
    }
    let wanted = |f: usize| {
        f == l.type_at || f == l.name_at || f == l.id_at || f == l.size_at || f == edge_count_at
    };
    let mut last_slot: Option<((u32, u32), u32)> = None;
    let mut fields = [0u64; MAX_FAST_STRIDE];
    let whole_nodes = l.stride <= MAX_FAST_STRIDE;
    loop {
        // A whole node straight from the buffer when it is all plain
        // integers; else field by field (that path also gives the errors).
        let fast = if field == 0 && whole_nodes {
            s.uints_then_separator(&mut fields[..l.stride])
        } else {
            None
        };
        let separator = match fast {
            Some(separator) => {
                t = fields[l.type_at];
                name = fields[l.name_at];
                id = fields[l.id_at];
                size = fields[l.size_at];
                if let Some(&e) = fields.get(edge_count_at) {
                    edges = e;
                }
                field = l.stride;
                separator
            }
            None => {
                let (value, separator) = match s.uint_then_separator() {
                    Some(fast) => fast,
                    None if wanted(field) => (s.read_uint()?, s.next_token()?),
                    None => (s.skip_number().map(|()| 0)?, s.next_token()?),
                };
                if field == l.type_at {
                    t = value;
                } else if field == l.name_at {
                    name = value;
                } else if field == l.id_at {
                    id = value;
                } else if field == l.size_at {
                    size = value;
                } else if field == edge_count_at {
                    edges = value;
                }
                field += 1;
                separator
            }
        };
        if field == l.stride {
            field = 0;
            if let Some(g) = graph.as_deref_mut() {
                let too_big = |_| s.error("a node field above 2^32");
                g.edge_start.push(u32::try_from(edges).map_err(too_big)?);
                g.node_name.push(u32::try_from(name).map_err(too_big)?);
                g.node_kind
                    .push(l.kind_ids.get(t as usize).copied().unwrap_or(u8::MAX));
            }
            let id = u32::try_from(id).map_err(|_| s.error("node id above 2^32"))?;
            let unstable = is_unstable_id(id);
            let how = match l.kinds.get(t as usize) {
                Some(KindRule::ByName) if unstable => Some(BY_NAME_KEYED),
                Some(KindRule::ByName) => Some(BY_NAME),
                Some(KindRule::Fixed(g)) if unstable => Some(*g),
                Some(KindRule::Fixed(_)) => None,
                // A type index beyond `node_types`: named by its number.
                None => Some(groups.for_unknown_kind_name(&t.to_string())).filter(|_| unstable),
            };
            let group = match (how, l.kinds.get(t as usize)) {
                (Some(how), _) => {
                    let idx = u32::try_from(name).map_err(|_| s.error("string index too large"))?;
                    // Runs of objects of one constructor are common: the
                    // last slot is tried before the map.
                    let slot = match last_slot {
                        Some((key, slot)) if key == (idx, how) => slot,
                        _ => {
                            let next = slots.len() as u32;
                            let slot = *slots.entry((idx, how)).or_insert(next);
                            last_slot = Some(((idx, how), slot));
                            slot
                        }
                    };
                    PENDING | slot
                }
                (None, Some(KindRule::Fixed(g))) => *g,
                (None, _) => groups.for_unknown_kind_name(&t.to_string()),
            };
            on_node(Record { id, group, size });
        }
        match separator {
            b',' => continue,
            b']' => break,
            b => {
                return Err(s.error(&format!(
                    "expected ',' or ']' in nodes, found {:?}",
                    b as char
                )))
            }
        }
    }
    if field != 0 {
        return Err(s.error("nodes array length is not a multiple of node_fields"));
    }
    Ok(())
}

fn read_edges<R: Read>(s: &mut Scanner<R>, l: &NodeLayout, g: &mut CompactGraph) -> Result<()> {
    let e = l.edges.as_ref().ok_or_else(|| {
        JsonError("snapshot.meta has no edge_fields/edge_types to read edges with".into())
    })?;
    let mut field = 0usize;
    let (mut t, mut name, mut to) = (0u64, 0u64, 0u64);
    s.expect(b'[')?;
    if s.peek_token()? == b']' {
        s.bump();
        return Ok(());
    }
    loop {
        if field == e.type_at {
            t = s.read_uint()?;
        } else if field == e.name_at {
            name = s.read_uint()?;
        } else if field == e.to_at {
            to = s.read_uint()?;
        } else {
            s.skip_number()?;
        }
        field += 1;
        if field == e.stride {
            field = 0;
            if to % l.stride as u64 != 0 {
                return Err(s.error("an edge's to_node is not a node offset"));
            }
            let to =
                u32::try_from(to / l.stride as u64).map_err(|_| s.error("to_node too large"))?;
            // Element and hidden indexes above 2^32 - 1 print capped.
            let name = u32::try_from(name).unwrap_or(u32::MAX);
            g.edge_type.push(
                e.types
                    .get(t as usize)
                    .copied()
                    .unwrap_or(edge::OTHER as u8),
            );
            g.edge_name.push(name);
            g.edge_to.push(to);
        }
        match s.next_token()? {
            b',' => continue,
            b']' => break,
            b => {
                return Err(s.error(&format!(
                    "expected ',' or ']' in edges, found {:?}",
                    b as char
                )))
            }
        }
    }
    if field != 0 {
        return Err(s.error("edges array length is not a multiple of edge_fields"));
    }
    Ok(())
}

/// Reads the strings with indexes in `wanted` from the string table whose
/// value starts at byte `offset` of `reader` (as [`read_with_graph`] found
/// it); stops after the last one wanted.
pub fn read_strings_at<R: Read + Seek>(
    mut reader: R,
    offset: u64,
    wanted: &[u32],
) -> Result<std::collections::HashMap<u32, String>> {
    let mut out = std::collections::HashMap::with_capacity(wanted.len());
    let Some(&last) = wanted.iter().max() else {
        return Ok(out);
    };
    let want: std::collections::HashSet<u32> = wanted.iter().copied().collect();
    reader.seek(SeekFrom::Start(offset))?;
    let mut s = Scanner::new(reader);
    s.consumed = offset;
    s.expect(b'[')?;
    if s.peek_token()? == b']' {
        return Ok(out);
    }
    let mut buf = Vec::new();
    for index in 0..=last {
        if want.contains(&index) {
            s.read_string(&mut buf)?;
            out.insert(index, String::from_utf8_lossy(&buf).into_owned());
        } else if s.peek_token()? == b'"' {
            s.skip_string()?;
        } else {
            s.skip_value()?;
        }
        match s.next_token()? {
            b',' => continue,
            b']' => break,
            b => {
                return Err(s.error(&format!(
                    "expected ',' or ']' in strings, found {:?}",
                    b as char
                )))
            }
        }
    }
    Ok(out)
}

fn read_strings<R: Read>(
    s: &mut Scanner<R>,
    slots: &HashMap<(u32, u32), u32>,
    names: &mut [Option<Vec<u8>>],
) -> Result<()> {
    // (string index, a slot that wants it), in the table's order: a cursor
    // walks it as the strings go by.
    let mut wanted: Vec<(u32, u32)> = slots.iter().map(|(&(idx, _), &slot)| (idx, slot)).collect();
    wanted.sort_unstable();
    let mut next = 0;
    s.expect(b'[')?;
    if s.peek_token()? == b']' {
        s.bump();
        return Ok(());
    }
    let mut index = 0u32;
    let mut buf = Vec::new();
    // The separator after a string the fast path skipped (0: not read yet).
    let mut sep = 0u8;
    loop {
        match wanted.get(next) {
            Some(&(idx, _)) if idx == index => {
                s.read_string(&mut buf)?;
                while let Some(&(idx, slot)) = wanted.get(next) {
                    if idx != index {
                        break;
                    }
                    names[slot as usize] = Some(buf.clone());
                    next += 1;
                }
            }
            _ => {
                if let Some(separator) = s.plain_string_then_separator() {
                    sep = separator;
                } else if s.peek_token()? == b'"' {
                    s.skip_string()?;
                } else {
                    s.skip_value()?;
                }
            }
        }
        index = index.wrapping_add(1);
        let separator = match std::mem::take(&mut sep) {
            0 => s.next_token()?,
            b => b,
        };
        match separator {
            b',' => continue,
            b']' => return Ok(()),
            b => {
                return Err(s.error(&format!(
                    "expected ',' or ']' in strings, found {:?}",
                    b as char
                )))
            }
        }
    }
}

/// Nodes of at most this many fields are read whole by
/// [`Scanner::uints_then_separator`] (V8 writes 6 or 7).
const MAX_FAST_STRIDE: usize = 16;

/// A byte scanner over a reader with a large buffer.
struct Scanner<R> {
    r: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    consumed: u64,
}

const BUF: usize = 1 << 20;

impl<R: Read> Scanner<R> {
    fn new(r: R) -> Self {
        Scanner {
            r,
            buf: vec![0; BUF].into_boxed_slice(),
            pos: 0,
            len: 0,
            consumed: 0,
        }
    }

    /// Bytes of input consumed so far.
    fn offset(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    fn error(&self, what: &str) -> JsonError {
        JsonError(format!(
            "heap snapshot: {what} (at byte {})",
            self.consumed + self.pos as u64
        ))
    }

    /// Makes at least one byte available; false at end of input.
    #[inline]
    fn fill(&mut self) -> Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        self.refill()
    }

    /// [`Scanner::fill`]'s read, out of line: the check above runs for
    /// nearly every byte of punctuation and must stay cheap.
    #[inline(never)]
    fn refill(&mut self) -> Result<bool> {
        self.consumed += self.len as u64;
        self.pos = 0;
        self.len = 0;
        loop {
            match self.r.read(&mut self.buf) {
                Ok(n) => {
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    #[inline]
    fn bump(&mut self) {
        self.pos += 1;
    }

    fn byte(&mut self) -> Result<u8> {
        match self.peek()? {
            Some(b) => {
                self.bump();
                Ok(b)
            }
            None => Err(self.error("unexpected end of input")),
        }
    }

    /// The next non-whitespace byte, not consumed.
    #[inline]
    fn peek_token(&mut self) -> Result<u8> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.bump(),
                Some(b) => return Ok(b),
                None => return Err(self.error("unexpected end of input")),
            }
        }
    }

    /// The next non-whitespace byte, consumed.
    #[inline]
    fn next_token(&mut self) -> Result<u8> {
        let b = self.peek_token()?;
        self.bump();
        Ok(b)
    }

    fn expect(&mut self, want: u8) -> Result<()> {
        let b = self.next_token()?;
        if b == want {
            Ok(())
        } else {
            Err(self.error(&format!(
                "expected {:?}, found {:?}",
                want as char, b as char
            )))
        }
    }

    /// The nodes array's common case, read straight from the buffer: a
    /// plain integer of up to 19 digits and the `,` or `]` right after it.
    /// `None` (nothing consumed) for anything else: whitespace, a sign, a
    /// fraction, the end of the buffer; the general path reads those.
    #[inline]
    fn uint_then_separator(&mut self) -> Option<(u64, u8)> {
        let chunk = &self.buf[self.pos..self.len];
        let digits = chunk
            .iter()
            .take(19)
            .take_while(|b| b.is_ascii_digit())
            .count();
        match chunk.get(digits) {
            Some(&sep @ (b',' | b']')) if digits > 0 => {
                let v = chunk[..digits]
                    .iter()
                    .fold(0u64, |v, &b| v * 10 + u64::from(b - b'0'));
                self.pos += digits + 1;
                Some((v, sep))
            }
            _ => None,
        }
    }

    /// A whole node read straight from the buffer: `out.len()` plain
    /// integers of up to 19 digits, each followed by `,` (the last by `,` or
    /// `]`), whitespace allowed around them (V8 writes `…,0\n,9,…`); the
    /// last separator. `None` (nothing consumed) for anything else, or when
    /// the node does not end inside the buffer.
    #[inline]
    fn uints_then_separator(&mut self, out: &mut [u64]) -> Option<u8> {
        let chunk = &self.buf[self.pos..self.len];
        let is_space = |b: u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
        let last = out.len().checked_sub(1)?;
        let mut i = 0;
        let mut separator = b',';
        for (f, slot) in out.iter_mut().enumerate() {
            // A field fits a fixed window (bounds known, no check per
            // byte): up to 2 spaces, 19 digits, 2 spaces and a separator.
            let w: &[u8; 24] = chunk.get(i..i + 24)?.try_into().ok()?;
            let mut k = 0;
            while k < 2 && is_space(w[k]) {
                k += 1;
            }
            let start = k;
            let mut v = 0u64;
            while k < start + 19 && w[k].is_ascii_digit() {
                v = v * 10 + u64::from(w[k] - b'0');
                k += 1;
            }
            if k == start {
                return None;
            }
            let end = k + 2;
            while k < end && is_space(w[k]) {
                k += 1;
            }
            separator = match w[k] {
                b',' => b',',
                b']' if f == last => b']',
                _ => return None,
            };
            i += k + 1;
            *slot = v;
        }
        self.pos += i;
        Some(separator)
    }

    /// The string table's common case, skipped straight from the buffer: a
    /// string without escapes and the `,` or `]` after it (whitespace
    /// allowed around it). `None` (nothing consumed) for anything else, or
    /// when it does not end inside the buffer.
    #[inline]
    fn plain_string_then_separator(&mut self) -> Option<u8> {
        let chunk = &self.buf[self.pos..self.len];
        let is_space = |b: Option<&u8>| matches!(b, Some(b' ' | b'\n' | b'\r' | b'\t'));
        let mut i = 0;
        while is_space(chunk.get(i)) {
            i += 1;
        }
        if chunk.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        // Names are short: a plain loop beats memchr's setup on most.
        let rest = chunk.get(i..)?;
        let close = match rest.iter().take(32).position(|&b| b == b'"' || b == b'\\') {
            Some(n) => n,
            None if rest.len() <= 32 => return None,
            None => 32 + memchr::memchr2(b'"', b'\\', &rest[32..])?,
        };
        if rest[close] != b'"' {
            return None;
        }
        i += close + 1;
        while is_space(chunk.get(i)) {
            i += 1;
        }
        let separator = match chunk.get(i) {
            Some(&b @ (b',' | b']')) => b,
            _ => return None,
        };
        self.pos += i + 1;
        Some(separator)
    }

    /// A non-negative integer (a fraction or exponent is accepted when the
    /// value is integral).
    #[inline]
    fn read_uint(&mut self) -> Result<u64> {
        let first = self.peek_token()?;
        if !first.is_ascii_digit() {
            return Err(self.error(&format!("expected a number, found {:?}", first as char)));
        }
        // Fast path: a plain integer that ends inside the buffer.
        let chunk = &self.buf[self.pos..self.len];
        let digits = chunk
            .iter()
            .take(19)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits < 19 && digits < chunk.len() && !matches!(chunk[digits], b'.' | b'e' | b'E') {
            let v = chunk[..digits]
                .iter()
                .fold(0u64, |v, &b| v * 10 + u64::from(b - b'0'));
            self.pos += digits;
            return Ok(v);
        }
        let mut v: u64 = 0;
        while let Some(b) = self.peek()? {
            if !b.is_ascii_digit() {
                if matches!(b, b'.' | b'e' | b'E') {
                    return self.finish_float(v);
                }
                break;
            }
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| self.error("number too large"))?;
            self.bump();
        }
        Ok(v)
    }

    fn finish_float(&mut self, int: u64) -> Result<u64> {
        let mut text = int.to_string().into_bytes();
        while let Some(b) = self.peek()? {
            if b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-') {
                text.push(b);
                self.bump();
            } else {
                break;
            }
        }
        let f: f64 = std::str::from_utf8(&text)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| self.error("bad number"))?;
        if f.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&f) {
            return Err(self.error("expected a non-negative integer"));
        }
        Ok(f as u64)
    }

    fn skip_number(&mut self) -> Result<()> {
        let first = self.peek_token()?;
        if !(first.is_ascii_digit() || first == b'-') {
            return Err(self.error(&format!("expected a number, found {:?}", first as char)));
        }
        loop {
            let chunk = &self.buf[self.pos..self.len];
            let n = chunk
                .iter()
                .position(|&b| {
                    !(b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
                })
                .unwrap_or(chunk.len());
            self.pos += n;
            if self.pos < self.len || !self.fill()? {
                return Ok(());
            }
        }
    }

    /// Reads a JSON string, unescaped to UTF-8, into `out`.
    fn read_string(&mut self, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        self.expect(b'"')?;
        loop {
            if !self.fill()? {
                return Err(self.error("unterminated string"));
            }
            let chunk = &self.buf[self.pos..self.len];
            let n = memchr::memchr2(b'"', b'\\', chunk).unwrap_or(chunk.len());
            out.extend_from_slice(&chunk[..n]);
            self.pos += n;
            if self.pos == self.len {
                continue;
            }
            let b = self.byte()?;
            if b == b'"' {
                return Ok(());
            }
            self.read_escape(out)?;
        }
    }

    fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let c = match self.byte()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.read_hex4()?;
                if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate: a low one should follow as `\uXXXX`.
                    if self.peek()? == Some(b'\\') {
                        self.bump();
                        if self.byte()? != b'u' {
                            return Err(self.error("bad escape after a surrogate"));
                        }
                        let lo = self.read_hex4()?;
                        if (0xDC00..0xE000).contains(&lo) {
                            let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                            char::from_u32(cp).unwrap_or('\u{fffd}')
                        } else {
                            push_char(out, '\u{fffd}');
                            char::from_u32(lo).unwrap_or('\u{fffd}')
                        }
                    } else {
                        '\u{fffd}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            b => return Err(self.error(&format!("bad escape \\{}", b as char))),
        };
        push_char(out, c);
        Ok(())
    }

    fn read_hex4(&mut self) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let b = self.byte()?;
            let d = (b as char)
                .to_digit(16)
                .ok_or_else(|| self.error("bad \\u escape"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn skip_string(&mut self) -> Result<()> {
        self.expect(b'"')?;
        loop {
            if !self.fill()? {
                return Err(self.error("unterminated string"));
            }
            let chunk = &self.buf[self.pos..self.len];
            match memchr::memchr2(b'"', b'\\', chunk) {
                None => self.pos = self.len,
                Some(n) => {
                    let b = chunk[n];
                    self.pos += n + 1;
                    if b == b'"' {
                        return Ok(());
                    }
                    // Skip the escaped byte (`\uXXXX` digits are plain bytes).
                    self.byte()?;
                }
            }
        }
    }

    /// Skips any JSON value (iteratively: nesting depth costs no stack).
    fn skip_value(&mut self) -> Result<()> {
        self.walk_value(None)
    }

    /// Copies the raw text of the next JSON value into `out`.
    fn capture_value(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.walk_value(Some(out))
    }

    fn walk_value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
        let mut depth = 0usize;
        let mut in_string = false;
        self.peek_token()?;
        loop {
            if depth > 0 {
                // Inside a container: jump over the bytes that cannot change
                // the nesting (most of the file, e.g. the edges' numbers).
                if !self.fill()? {
                    return Err(self.error("unexpected end of input"));
                }
                let chunk = &self.buf[self.pos..self.len];
                let n = if in_string {
                    memchr::memchr2(b'"', b'\\', chunk)
                } else {
                    find_structural(chunk)
                }
                .unwrap_or(chunk.len());
                if let Some(o) = out.as_deref_mut() {
                    o.extend_from_slice(&chunk[..n]);
                }
                self.pos += n;
                if self.pos == self.len {
                    continue;
                }
            }
            let b = self.byte()?;
            if let Some(o) = out.as_deref_mut() {
                o.push(b);
            }
            if in_string {
                match b {
                    b'\\' => {
                        let e = self.byte()?;
                        if let Some(o) = out.as_deref_mut() {
                            o.push(e);
                        }
                    }
                    b'"' => {
                        in_string = false;
                        if depth == 0 {
                            return Ok(());
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| self.error("unbalanced brackets"))?;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ if depth == 0 => {
                    // A scalar (number, true, false, null) ends at a delimiter.
                    while let Some(n) = self.peek()? {
                        if matches!(n, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                            break;
                        }
                        if let Some(o) = out.as_deref_mut() {
                            o.push(n);
                        }
                        self.bump();
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
    }
}

/// The first `"`, `[`, `]`, `{` or `}` in `chunk`. Blocks of 32 bytes are
/// tested branch-free first (vectorised by the compiler): in the arrays of
/// numbers that make up most of a snapshot, no byte passes.
fn find_structural(chunk: &[u8]) -> Option<usize> {
    let exact = |c: &u8| matches!(c, b'"' | b'[' | b']' | b'{' | b'}');
    let mut blocks = chunk.chunks_exact(32);
    let mut at = 0;
    for block in &mut blocks {
        // Every structural byte is '"' or at least '[' (0x5B).
        if block
            .iter()
            .fold(false, |any, &c| any | (c == b'"') | (c >= b'['))
        {
            if let Some(i) = block.iter().position(exact) {
                return Some(at + i);
            }
        }
        at += 32;
    }
    blocks.remainder().iter().position(exact).map(|i| at + i)
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut tmp = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
}

#[cfg(test)]
#[path = "json_source_tests.rs"]
mod tests;
