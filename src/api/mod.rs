//! The `#[napi]` surface, one file per feature: thin functions that find the
//! calling thread's state, call into the feature, and return a typed value
//! from [`crate::payload`] or throw a `TypeError`/`RangeError`/`Error` with
//! its final, bounded message.

pub mod census;
pub mod gc;
pub mod heap_diff;
pub mod metrics;
pub mod sampling;
pub mod track;

mod describe;

use std::rc::Rc;

use napi::{Env, Error, Result, Status};

use crate::isolate::IsolateState;

/// Longest error message thrown to JS, in characters.
const MAX_MESSAGE: usize = 1000;

/// The calling thread's state, or an `Error` if `attach()` has not run here.
pub(crate) fn state(env: &Env) -> Result<Rc<IsolateState>> {
    match env.get_instance_data::<Rc<IsolateState>>()? {
        Some(s) => Ok(Rc::clone(s)),
        None => Err(Error::new(
            Status::GenericFailure,
            "memwatch-rs: the native module is not attached in this thread",
        )),
    }
}

/// The kinds of error the surface throws.
#[derive(Clone, Copy)]
pub(crate) enum Throw {
    Type,
    Range,
    Plain,
}

/// Throws `message` (bounded, NUL-free) as a JS error of `kind` and returns
/// the error that tells napi-rs an exception is pending.
pub(crate) fn throw(env: &Env, kind: Throw, message: &str) -> Error {
    let message = crate::text::bounded(&message.replace('\0', "\\0"), MAX_MESSAGE);
    let thrown = match kind {
        Throw::Type => env.throw_type_error(&message, None),
        Throw::Range => env.throw_range_error(&message, None),
        Throw::Plain => env.throw_error(&message, None),
    };
    match thrown {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(_) => Error::new(Status::GenericFailure, message),
    }
}
