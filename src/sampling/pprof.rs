//! A sampling profile in pprof's `profile.proto` format, gzipped: what `go
//! tool pprof`, Pyroscope, Grafana and the other pprof readers open.
//!
//! In-use heap style (as Go's heap profiles and @datadog/pprof): sample
//! types `inuse_objects/count` and `inuse_space/bytes` (the default), period
//! `space/bytes` = the sampling interval. One sample per site, its
//! locations leaf first; one location per distinct frame, one function per
//! (name, script, line). V8 gives each function's position, not the
//! allocating line, so a location's line is its function's.

use std::collections::HashMap;
use std::io::Write;

use prost::Message;

use super::pprof_proto as pb;
use super::profile::{Frame, Profile};

/// The string table: index 0 is "".
struct Strings {
    list: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        Strings {
            list: vec![String::new()],
            index: HashMap::new(),
        }
    }

    fn get(&mut self, s: &str) -> i64 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as i64;
        self.list.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// The profile as a `profile.proto` message (not compressed).
pub fn message(p: &Profile) -> pb::Profile {
    let mut s = Strings::new();
    let value_type = |s: &mut Strings, t: &str, u: &str| pb::ValueType {
        r#type: s.get(t),
        unit: s.get(u),
    };
    let sample_type = vec![
        value_type(&mut s, "inuse_objects", "count"),
        value_type(&mut s, "inuse_space", "bytes"),
    ];
    let period_type = Some(value_type(&mut s, "space", "bytes"));
    let mut functions: Vec<pb::Function> = Vec::new();
    let mut function_ids: HashMap<(&str, &str, u32), u64> = HashMap::new();
    let mut locations: Vec<pb::Location> = Vec::new();
    let mut location_ids: HashMap<&Frame, u64> = HashMap::new();
    let mut samples = Vec::with_capacity(p.sites.len());
    for site in p.sites.iter().filter(|x| x.bytes > 0 || x.count > 0) {
        let mut ids = Vec::with_capacity(site.frames.len());
        for f in &site.frames {
            let id = match location_ids.get(f) {
                Some(&id) => id,
                None => {
                    let key = (f.function.as_str(), f.script.as_str(), f.line);
                    let function_id = match function_ids.get(&key) {
                        Some(&id) => id,
                        None => {
                            let id = functions.len() as u64 + 1;
                            let name = s.get(&f.function);
                            functions.push(pb::Function {
                                id,
                                name,
                                system_name: name,
                                filename: s.get(&f.script),
                                start_line: i64::from(f.line),
                            });
                            function_ids.insert(key, id);
                            id
                        }
                    };
                    let id = locations.len() as u64 + 1;
                    locations.push(pb::Location {
                        id,
                        mapping_id: 0,
                        address: 0,
                        line: vec![pb::Line {
                            function_id,
                            line: i64::from(f.line),
                            column: i64::from(f.column),
                        }],
                        is_folded: false,
                    });
                    location_ids.insert(f, id);
                    id
                }
            };
            ids.push(id);
        }
        samples.push(pb::Sample {
            location_id: ids,
            value: vec![site.count, site.bytes],
            label: Vec::new(),
        });
    }
    let default_sample_type = s.get("inuse_space");
    pb::Profile {
        sample_type,
        sample: samples,
        mapping: Vec::new(),
        location: locations,
        function: functions,
        string_table: s.list,
        drop_frames: 0,
        keep_frames: 0,
        time_nanos: nanos(p.time_ms),
        duration_nanos: 0,
        period_type,
        period: i64::try_from(p.interval_bytes).unwrap_or(i64::MAX),
        comment: Vec::new(),
        default_sample_type,
    }
}

/// Ms since the epoch as ns, without a float's rounding of the whole.
fn nanos(ms: f64) -> i64 {
    if !ms.is_finite() {
        return 0;
    }
    let whole = ms.trunc();
    (whole as i64)
        .saturating_mul(1_000_000)
        .saturating_add(((ms - whole) * 1e6).round() as i64)
}

/// The profile encoded and gzipped, as pprof files are.
pub fn gzipped(p: &Profile) -> Vec<u8> {
    let raw = message(p).encode_to_vec();
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 3 + 64),
        flate2::Compression::default(),
    );
    // Writing into a Vec does not fail.
    let _ = gz.write_all(&raw);
    gz.finish().unwrap_or_default()
}

#[cfg(test)]
#[path = "pprof_tests.rs"]
mod tests;
