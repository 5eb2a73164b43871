//! Heap censuses as plain data: naming and ordering the groups a census
//! found, the census diff in HeapDiff's shape, and the `suspects` of a
//! `leak` (which groups grew between two censuses, and when the detector
//! wants a census). Pure: the census itself is taken by
//! [`crate::ffi::census`], which hands over raw groups.
//!
//! A census sees every live JS object (in every context of the isolate),
//! named as a heap snapshot names it: functions are `Closure`, other objects
//! go by constructor name (`Array`, `Map`, `Session`, …; empty names are
//! `(anonymous)`). It does not see what is not a JS object: strings,
//! numbers, code, the backing stores of arrays and objects (HeapDiff's
//! `String`, `Code`, `Hidden`, internal `Array`, … groups), proxies.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::diff::{Detail, Diff, Summary};
use super::records::ANONYMOUS;
use crate::ffi::census::{RawCensus, RawName};
use crate::gc::leak::{LeakState, Outcome};

/// The group of every function (HeapDiff's name for closures).
pub const CLOSURE: &str = "Closure";

/// Objects V8 gave no readable name.
pub const UNKNOWN: &str = "(unknown)";

/// At most this many `suspects` on a `leak`.
pub const MAX_SUSPECTS: usize = 10;

/// `suspectsMaxHeapBytes` by default: the suspects' censuses run on heaps
/// up to 128 MiB live. A census costs 11–13 ms of pause and 1.2–1.3 MB of
/// memory per MB of live heap (`npm run bench`, census-heap-size: heaps of
/// mixed records of 115 and 496 MB on a 2-core EPYC): about 1.6 s and
/// 170 MB at this bound.
pub const DEFAULT_SUSPECTS_MAX_HEAP_BYTES: u64 = 128 << 20;

/// Memory a census needs while it runs, per byte of live heap, rounded up
/// from the 1.2–1.3 measured (V8 marks every reachable heap object into a
/// hash set before each of its two heap walks).
pub const CENSUS_MEMORY_PER_HEAP_BYTE: f64 = 1.5;

/// A census may use at most this share of the memory still available to
/// the process: the service keeps the rest.
pub const CENSUS_MEMORY_SHARE: f64 = 0.5;

/// Pause of a census per MiB of live heap, seconds (11–13 ms measured,
/// idle): the messages' estimate until this thread has measured its own.
const CENSUS_SECONDS_PER_MIB: f64 = 0.012;

/// Censuses of smaller heaps do not set the pause rate: V8's fixed costs
/// (the full GCs before its heap walks) would inflate it.
const CALIBRATION_MIN_HEAP_BYTES: u64 = 32 << 20;

const MIB: f64 = 1024.0 * 1024.0;

/// The pause of a census per MiB of live heap as this thread measured it:
/// `secs` for a census of `heap_used` bytes. `None` when that heap was too
/// small to say (see [`CALIBRATION_MIN_HEAP_BYTES`]). Under load a census
/// takes several times its idle pause; a measured rate says so.
pub fn measured_pause_rate(heap_used: u64, secs: f64) -> Option<f64> {
    (heap_used >= CALIBRATION_MIN_HEAP_BYTES && secs.is_finite() && secs > 0.0)
        .then(|| secs / (heap_used as f64 / MIB))
}

/// `configure({ suspects, suspectsMaxHeapBytes })`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuspectsConfig {
    /// Take the suspects' censuses at all.
    pub on: bool,
    /// Skip a suspects' census when the live heap is larger than this.
    pub max_heap_bytes: u64,
}

impl Default for SuspectsConfig {
    fn default() -> Self {
        SuspectsConfig {
            on: true,
            max_heap_bytes: DEFAULT_SUSPECTS_MAX_HEAP_BYTES,
        }
    }
}

/// Where a suspects' census is skipped, the route that works on any heap:
/// a `leak` carries the allocation sites that grew while sampling runs.
const SAMPLING_HINT: &str =
    "startSampling() for the allocation sites that grew, at a fraction of the cost";

/// Whether a suspects' census may run on a live heap of `heap_used` bytes
/// with `available()` bytes of memory left to the process (`None`:
/// unknown; asked only when the heap is within the bound). `Err` says why
/// not, with the pause it would have cost: at `pause_rate` (seconds per
/// MiB, from [`measured_pause_rate`]) when this thread measured one, else
/// at the bench machine's idle rate. A census the program asks for
/// (`census()`, a census HeapDiff) is not bounded: these are the ones it
/// never asked for.
pub fn affordable(
    heap_used: u64,
    max_heap_bytes: u64,
    pause_rate: Option<f64>,
    available: impl FnOnce() -> Option<u64>,
) -> Result<(), String> {
    let need = heap_used as f64 * CENSUS_MEMORY_PER_HEAP_BYTE;
    if heap_used > max_heap_bytes {
        let rate = pause_rate.unwrap_or(CENSUS_SECONDS_PER_MIB);
        let measured = match pause_rate {
            Some(r) => format!(" (at the {:.0} ms per MB its last census took)", r * 1000.0),
            None => String::new(),
        };
        return Err(format!(
            "the live heap ({}) is over suspectsMaxHeapBytes ({}): a census would pause this thread \
             for {}{measured} and need about {} more memory; raise suspectsMaxHeapBytes to allow \
             it, or {SAMPLING_HINT}",
            mb(heap_used as f64),
            mb(max_heap_bytes as f64),
            seconds(heap_used as f64 / MIB * rate),
            mb(need),
        ));
    }
    match available() {
        Some(free) if need > free as f64 * CENSUS_MEMORY_SHARE => Err(format!(
            "a census of this heap ({} live) would need about {} more memory and only {} is \
             available to the process; {SAMPLING_HINT}",
            mb(heap_used as f64),
            mb(need),
            mb(free as f64),
        )),
        _ => Ok(()),
    }
}

/// Bytes for a message, 1024-based as the rest of memwatch: `"812 MB"`,
/// `"1.4 GB"`.
fn mb(bytes: f64) -> String {
    if bytes >= 1024.0 * MIB {
        format!("{:.1} GB", bytes / (1024.0 * MIB))
    } else if bytes >= MIB {
        format!("{:.0} MB", bytes / MIB)
    } else {
        format!("{:.0} KB", bytes / 1024.0)
    }
}

/// A pause for a message: `"about 0.8 s"`, `"about 12 s"`, `"under 0.1 s"`.
fn seconds(s: f64) -> String {
    if s < 0.1 {
        "under 0.1 s".to_owned()
    } else if s < 10.0 {
        format!("about {s:.1} s")
    } else {
        format!("about {s:.0} s")
    }
}

/// One group of a census: its objects' count and shallow bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub what: String,
    pub count: u64,
    pub bytes: u64,
}

/// The live JS objects of an isolate at one moment, grouped.
#[derive(Debug, Clone, PartialEq)]
pub struct Census {
    /// When it was taken, ms since the Unix epoch.
    pub time_ms: f64,
    /// Objects counted (the sum of the groups' counts).
    pub objects: u64,
    /// Their shallow bytes (the sum of the groups' bytes).
    pub bytes: u64,
    /// One per name, largest first: by bytes, then count, then name.
    pub groups: Vec<Group>,
}

/// Largest first: bytes, then count, then name.
fn largest_first(a: &Group, b: &Group) -> Ordering {
    b.bytes
        .cmp(&a.bytes)
        .then(b.count.cmp(&a.count))
        .then_with(|| a.what.cmp(&b.what))
}

impl Census {
    /// Names and merges the raw groups (two name strings with the same text
    /// are one group) and orders them largest first.
    pub fn new(raw: RawCensus, time_ms: f64) -> Census {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        for g in raw.groups {
            let what = match g.name {
                RawName::Closure => CLOSURE.to_owned(),
                RawName::Constructor(bytes) if bytes.is_empty() => ANONYMOUS.to_owned(),
                RawName::Constructor(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                RawName::Unknown => UNKNOWN.to_owned(),
            };
            match index.get(&what) {
                Some(&i) => {
                    groups[i].count += g.count;
                    groups[i].bytes += g.bytes;
                }
                None => {
                    index.insert(what.clone(), groups.len());
                    groups.push(Group {
                        what,
                        count: g.count,
                        bytes: g.bytes,
                    });
                }
            }
        }
        groups.retain(|g| g.count > 0);
        groups.sort_by(largest_first);
        Census {
            time_ms,
            objects: groups.iter().map(|g| g.count).sum(),
            bytes: groups.iter().map(|g| g.bytes).sum(),
            groups,
        }
    }

    /// The group named `what`, if any object had that name.
    pub fn group(&self, what: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.what == what)
    }

    /// Heap bytes this census holds (for the memory it costs to keep one).
    pub fn heap_bytes(&self) -> usize {
        self.groups
            .iter()
            .map(|g| std::mem::size_of::<Group>() + g.what.len())
            .sum()
    }
}

/// `(count, bytes)` of each group of `c`, without the `exclude`d names.
fn by_name<'c>(c: &'c Census, exclude: &[&str]) -> HashMap<&'c str, (u64, u64)> {
    c.groups
        .iter()
        .filter(|g| !exclude.contains(&g.what.as_str()))
        .map(|g| (g.what.as_str(), (g.count, g.bytes)))
        .collect()
}

/// Two censuses as a HeapDiff: per group, the net change of its count
/// (`added` when it grew, `freed` when it shrank: a census cannot tell an
/// object that lived through from one freed and replaced) and of its bytes.
/// Groups named in `exclude` (the HeapDiff's own objects) are left out of
/// both sides. Details are ordered as HeapDiff orders them.
pub fn diff(before: &Census, after: &Census, exclude: &[&str]) -> Diff {
    let b = by_name(before, exclude);
    let a = by_name(after, exclude);
    let mut names: Vec<&str> = b.keys().chain(a.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let mut details = Vec::new();
    let (mut allocated, mut freed) = (0u64, 0u64);
    for what in names {
        let (nb, sb) = b.get(what).copied().unwrap_or((0, 0));
        let (na, sa) = a.get(what).copied().unwrap_or((0, 0));
        if nb == na && sb == sa {
            continue;
        }
        let added = na.saturating_sub(nb);
        let gone = nb.saturating_sub(na);
        allocated += added;
        freed += gone;
        details.push(Detail {
            what: what.to_owned(),
            size_bytes: sa as i64 - sb as i64,
            added,
            freed: gone,
            retainers: None,
        });
    }
    details.sort_by(|x, y| {
        y.size_bytes
            .unsigned_abs()
            .cmp(&x.size_bytes.unsigned_abs())
            .then((y.added + y.freed).cmp(&(x.added + x.freed)))
            .then_with(|| x.what.cmp(&y.what))
    });
    let summary = |c: &Census, m: &HashMap<&str, (u64, u64)>| Summary {
        nodes: m.values().map(|v| v.0).sum(),
        size_bytes: m.values().map(|v| v.1).sum(),
        time_ms: c.time_ms,
    };
    let (before, after) = (summary(before, &b), summary(after, &a));
    Diff {
        size_bytes: after.size_bytes as i64 - before.size_bytes as i64,
        before,
        after,
        freed_nodes: freed,
        allocated_nodes: allocated,
        details,
    }
}

/// How much one group grew between two censuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Growth {
    pub what: String,
    /// Net new objects.
    pub count: i64,
    /// Net new shallow bytes.
    pub bytes: i64,
}

/// The groups that grew most from `reference` to `now`: those whose bytes
/// grew (or whose count grew at equal bytes), largest growth first (bytes,
/// then count, then name), at most `max`.
pub fn suspects(reference: &Census, now: &Census, max: usize) -> Vec<Growth> {
    let before = by_name(reference, &[]);
    let mut grown: Vec<Growth> = now
        .groups
        .iter()
        .map(|g| {
            let (n, b) = before.get(g.what.as_str()).copied().unwrap_or((0, 0));
            Growth {
                what: g.what.clone(),
                count: g.count as i64 - n as i64,
                bytes: g.bytes as i64 - b as i64,
            }
        })
        .filter(|g| g.bytes > 0 || (g.bytes == 0 && g.count > 0))
        .collect();
    grown.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.what.cmp(&b.what))
    });
    grown.truncate(max);
    grown
}

/// Which census a full GC calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Nothing,
    /// A new reference: watching began, the floor started rising
    /// (`GrowthSuspected`), or the heap is flat again.
    Reference,
    /// The census of a `leak` report, compared with the reference.
    Report,
}

/// The `suspects` of `leak` reports: keeps the census each report is
/// compared with and says, per full GC, which census is due.
///
/// The reference of a leak is the census taken when the detector first saw
/// the floor rise (`GrowthSuspected`); a fast leak can be reported with no
/// suspicion before it, so a reference is also taken when watching begins
/// (the first full GC while a `leak` listener is attached) and whenever the
/// heap is judged flat again (a suspicion faded or a leak ended). Reports of
/// one leak, the first and its repeats, all compare with the same reference:
/// a report never replaces it.
#[derive(Debug, Default)]
pub struct SuspectWatch {
    reference: Reference,
    state: LeakState,
}

/// What a report is compared with.
#[derive(Debug, Default)]
enum Reference {
    /// No reference was due yet since watching began.
    #[default]
    NotDue,
    Held(Census),
    /// None is held; why the one due last was not taken, if one failed.
    Missing(Option<String>),
}

impl SuspectWatch {
    /// What the detector said at one full GC (`outcome`, and its state
    /// after it) → which census is due now.
    pub fn plan(&mut self, outcome: &Outcome, state: LeakState) -> Want {
        let was = std::mem::replace(&mut self.state, state);
        match outcome {
            Outcome::Leak(_) => Want::Report,
            Outcome::GrowthSuspected => Want::Reference,
            Outcome::Nothing if matches!(self.reference, Reference::NotDue) => Want::Reference,
            Outcome::Nothing if was != LeakState::Flat && state == LeakState::Flat => {
                Want::Reference
            }
            Outcome::Nothing => Want::Nothing,
        }
    }

    /// The census a [`Want::Reference`] asked for (`Err`: why it was not
    /// taken).
    pub fn set_reference(&mut self, census: Result<Census, String>) {
        self.reference = match census {
            Ok(c) => Reference::Held(c),
            Err(why) => Reference::Missing(Some(why)),
        };
    }

    /// The suspects of a report whose census is `now` (`Err`: why it was
    /// not taken), or why a report has none: its census was not taken, or
    /// there is no reference to compare with. A report with no reference
    /// makes its census the reference of the reports that follow.
    pub fn report(&mut self, now: Result<Census, String>) -> Result<Vec<Growth>, String> {
        let now = match now {
            Ok(now) => now,
            Err(why) => {
                if let Reference::NotDue = self.reference {
                    self.reference = Reference::Missing(None);
                }
                return Err(format!("no census for this report: {why}"));
            }
        };
        if let Reference::Held(reference) = &self.reference {
            return Ok(suspects(reference, &now, MAX_SUSPECTS));
        }
        let earlier = match std::mem::replace(&mut self.reference, Reference::Held(now)) {
            Reference::Missing(Some(why)) => format!("({why})"),
            _ => "yet".to_owned(),
        };
        Err(format!(
            "no earlier census to compare with {earlier}; this report's census is the next \
             report's reference"
        ))
    }

    /// Forgets the reference: the next full GC takes a new one.
    pub fn reset(&mut self) {
        *self = SuspectWatch::default();
    }

    /// Whether a reference is held.
    pub fn has_reference(&self) -> bool {
        matches!(self.reference, Reference::Held(_))
    }
}

#[cfg(test)]
#[path = "census_tests.rs"]
mod tests;
