use super::*;

#[test]
fn first_id_of_a_batch_wakes_and_take_starts_a_new_batch() {
    let b = Batch::default();
    assert!(b.collected(7));
    assert!(!b.collected(3));
    assert!(!b.collected(9));
    assert_eq!(b.pending(), 3);
    assert_eq!(b.take(), vec![7, 3, 9]);
    assert_eq!(b.pending(), 0);
    assert!(b.take().is_empty());
    assert!(b.collected(1), "a new batch wakes again");
}

#[test]
fn a_failed_wake_up_is_retried_by_the_next_collection() {
    let b = Batch::default();
    assert!(b.collected(1));
    b.wake_failed();
    assert!(b.collected(2));
    assert!(!b.collected(3));
    assert_eq!(b.take(), vec![1, 2, 3]);
}

#[test]
fn closing_drops_pending_ids_and_ignores_later_ones() {
    let b = Batch::default();
    assert!(b.collected(1));
    b.close();
    assert_eq!(b.pending(), 0);
    assert!(!b.collected(2));
    assert!(b.take().is_empty());
}

#[test]
fn collections_while_the_batch_is_delivered_start_the_next_batch() {
    let b = Batch::default();
    assert!(b.collected(1));
    let due = b.take();
    // a GC during delivery (callbacks allocate) collects more targets
    assert!(b.collected(2));
    assert_eq!(due, vec![1]);
    assert_eq!(b.take(), vec![2]);
}

#[test]
fn tracker_counts_registrations_and_collections() {
    let t = Tracker::default();
    t.registered();
    t.registered();
    assert!(t.collected(0));
    t.cancelled();
    let c = t.counts();
    assert_eq!(
        (c.registered, c.collected, c.cancelled, c.pending),
        (2, 1, 1, 1)
    );
    assert_eq!(c.live, 0, "no reference was stored");
    assert_eq!(t.take_due(), vec![0]);
    assert_eq!(t.counts().pending, 0);
}
