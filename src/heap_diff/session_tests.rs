//! `Live::open`: the sessions whose `end()` still needs V8's object ids,
//! the count `clearHeapSnapshotIds()` refuses on.

use std::rc::Rc;

use super::{Captured, Session};
use crate::heap_diff::records::Record;
use crate::heap_diff::v8_source::Sink;
use crate::heap_diff::Live;

/// A capture of a fake snapshot of `n` `Thing` objects (ids 1..=n).
fn capture(session: &mut Session, n: u32) -> Result<Captured, String> {
    session.capture_v8(0.0, |groups, sink: &mut dyn Sink| {
        let thing = groups.intern(b"Thing");
        sink.reserve(n as usize);
        for id in 1..=n {
            sink.add(
                groups,
                Record {
                    id,
                    group: thing,
                    size: 16,
                },
            );
        }
        Some(n as usize)
    })
}

#[test]
fn a_session_is_open_from_its_first_snapshot_to_its_end() {
    let live = Rc::new(Live::default());
    let mut s = Session::new(Rc::clone(&live));
    assert_eq!(live.open.get(), 0, "made, no snapshot yet");
    assert!(matches!(capture(&mut s, 10), Ok(Captured::Before)));
    assert_eq!(live.open.get(), 1);
    assert!(matches!(capture(&mut s, 12), Ok(Captured::Diff(_))));
    assert_eq!(live.open.get(), 0, "ended");
    drop(s);
    assert_eq!(live.open.get(), 0);
}

#[test]
fn failed_captures_and_drops_keep_the_count_right() {
    let live = Rc::new(Live::default());
    let mut failed = Session::new(Rc::clone(&live));
    assert!(failed.capture_v8(0.0, |_, _| None).is_err());
    assert_eq!(live.open.get(), 0, "no first snapshot");

    let mut a = Session::new(Rc::clone(&live));
    let mut b = Session::new(Rc::clone(&live));
    capture(&mut a, 5).unwrap();
    capture(&mut b, 5).unwrap();
    assert_eq!(live.open.get(), 2, "two overlapping diffs");
    // A failed "after" capture leaves the session open, "before" kept.
    assert!(a.capture_v8(0.0, |_, _| None).is_err());
    assert_eq!(live.open.get(), 2);
    // Dropped un-ended (its JS object collected): no longer open.
    drop(b);
    assert_eq!(live.open.get(), 1);
    capture(&mut a, 6).unwrap();
    assert_eq!(live.open.get(), 0);
}
