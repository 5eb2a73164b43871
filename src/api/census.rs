//! `memwatch.census()`: the live JS objects of this thread's heap, counted
//! and sized per constructor, without a heap snapshot.

use napi::{Env, Result};
use napi_derive::napi;

use super::{state, throw, Throw};
use crate::isolate::CensusFailure;
use crate::payload::CensusResult;

/// The message of the `Error` thrown when `what` could not take a census.
pub(crate) fn failure_message(what: &str, failure: &CensusFailure) -> String {
    match failure {
        CensusFailure::Unavailable(why) => format!(
            "{what}: a heap census is not available in this thread: {why}. \
             A census needs V8's HeapProfiler::QueryObjects and an object layout verified \
             for the running Node major; v8.queryObjects() cannot make one (it counts one \
             class per call, in the current context only). Use new HeapDiff() for an exact \
             diff, or v8.queryObjects(Class, {{ format: 'count' }}) to count one class."
        ),
        CensusFailure::Running => format!("{what}: a heap census is already running"),
        CensusFailure::Failed(why) => format!("{what}: the heap census failed: {why}"),
    }
}

/// Counts the live JS objects of this thread's heap (every context of its
/// isolate) by constructor, with their shallow sizes, largest group first.
/// Runs full GCs (which emit no `stats` events). Throws an `Error` saying
/// why where a census is not available (the fallback backend, a node binary
/// without the symbols).
#[napi]
pub fn census(env: Env) -> Result<CensusResult> {
    let state = state(&env)?;
    match state.census(&env) {
        Ok(census) => Ok(CensusResult::from(&census)),
        Err(failure) => Err(throw(
            &env,
            Throw::Plain,
            &failure_message("memwatch.census()", &failure),
        )),
    }
}

/// Whether `census()` can run in this thread: `null` when it can, else why
/// not (the reason `census()` would throw with). Costs no census: the leak
/// helpers use it to choose how to measure.
#[napi]
pub fn census_unavailable_reason(env: Env) -> Result<Option<String>> {
    Ok(state(&env)?.census_available().err())
}
