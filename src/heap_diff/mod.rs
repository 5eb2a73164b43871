//! HeapDiff: snapshot source → compact records → diff/format.
//!
//! - [`json_source`]: V8's JSON snapshot format, streamed;
//! - [`records`]: the compact per-node form sources produce;
//! - [`diff`]: matching by object id and memwatch's output.
//!
//! Plain data only: no N-API, no V8; unit-tested.

pub mod diff;
pub mod json_source;
pub mod records;
