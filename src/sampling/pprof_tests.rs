use std::io::Read;

use super::*;
use crate::sampling::profile::Site;

fn frame(function: &str, line: u32) -> Frame {
    Frame {
        function: function.into(),
        script: "/app/server.js".into(),
        line,
        column: 3,
    }
}

fn profile() -> Profile {
    Profile {
        time_ms: 1_700_000_000_123.0,
        interval_bytes: 524_288,
        stack_depth: 64,
        sites: vec![
            Site {
                frames: vec![
                    frame("makeSession", 10),
                    frame("handle", 40),
                    frame("main", 1),
                ],
                bytes: 848_000,
                count: 2000,
            },
            Site {
                frames: vec![frame("handle", 40), frame("main", 1)],
                bytes: 1600,
                count: 100,
            },
        ],
    }
}

fn decode(gz: &[u8]) -> pb::Profile {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut raw)
        .unwrap();
    pb::Profile::decode(&raw[..]).unwrap()
}

#[test]
fn round_trips_with_the_same_samples() {
    let p = profile();
    let d = decode(&gzipped(&p));
    let str = |i: i64| d.string_table[i as usize].as_str();
    assert_eq!(d.string_table[0], "");
    let types: Vec<(&str, &str)> = d
        .sample_type
        .iter()
        .map(|t| (str(t.r#type), str(t.unit)))
        .collect();
    assert_eq!(
        types,
        [("inuse_objects", "count"), ("inuse_space", "bytes")]
    );
    assert_eq!(str(d.default_sample_type), "inuse_space");
    let period = d.period_type.unwrap();
    assert_eq!(
        (str(period.r#type), str(period.unit), d.period),
        ("space", "bytes", 524_288)
    );
    assert_eq!(d.time_nanos, 1_700_000_000_123_000_000);
    assert_eq!(d.sample.len(), 2);
    for (sample, site) in d.sample.iter().zip(&p.sites) {
        assert_eq!(sample.value, vec![site.count, site.bytes]);
        let frames: Vec<Frame> = sample
            .location_id
            .iter()
            .map(|&id| {
                let loc = &d.location[id as usize - 1];
                assert_eq!(loc.id, id);
                let line = loc.line[0];
                let f = &d.function[line.function_id as usize - 1];
                assert_eq!(f.start_line, line.line);
                Frame {
                    function: str(f.name).into(),
                    script: str(f.filename).into(),
                    line: line.line as u32,
                    column: line.column as u32,
                }
            })
            .collect();
        assert_eq!(frames, site.frames, "leaf first");
    }
    // Shared frames are one location and one function.
    assert_eq!(d.location.len(), 3);
    assert_eq!(d.function.len(), 3);
}

#[test]
fn an_empty_profile_is_a_valid_file() {
    let mut p = profile();
    p.sites.clear();
    let d = decode(&gzipped(&p));
    assert!(d.sample.is_empty());
    assert_eq!(d.sample_type.len(), 2);
}
