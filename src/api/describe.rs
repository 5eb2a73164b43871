//! How error messages name a JS value the caller passed: `null`,
//! `undefined`, `number 1.5`, `the string "abc"`, `bigint 3n`, `an array`,
//! `an object`, `a function`, `a symbol`. Strings are cut to a bounded
//! length, so a huge argument never makes a huge message.

use napi::bindgen_prelude::{JsObjectValue, Object, Unknown};
use napi::{JsValue, ValueType};

use crate::text::{bounded, js_number};

/// Characters of a string argument shown in a message.
const SHOWN_CHARS: usize = 40;

/// `value` for an error message.
pub fn describe(value: &Unknown<'_>) -> String {
    match value.get_type() {
        Ok(ValueType::Null) => "null".into(),
        Ok(ValueType::Undefined) => "undefined".into(),
        Ok(ValueType::Boolean) => match value.coerce_to_bool() {
            Ok(b) => format!("boolean {b}"),
            Err(_) => "a boolean".into(),
        },
        Ok(ValueType::Number) => match value.coerce_to_number().and_then(|n| n.get_double()) {
            Ok(n) => format!("number {}", js_number(n)),
            Err(_) => "a number".into(),
        },
        Ok(ValueType::String) => match string(value) {
            Some(s) => format!("the string {}", quoted(&s)),
            None => "a string".into(),
        },
        Ok(ValueType::BigInt) => match value.coerce_to_string().and_then(|s| s.into_utf8()) {
            Ok(s) => format!(
                "bigint {}n",
                bounded(s.as_str().unwrap_or("?"), SHOWN_CHARS)
            ),
            Err(_) => "a bigint".into(),
        },
        Ok(ValueType::Symbol) => "a symbol".into(),
        Ok(ValueType::Function) => "a function".into(),
        Ok(ValueType::Object) | Ok(ValueType::External) => {
            if value.is_array().unwrap_or(false) {
                "an array".into()
            } else {
                "an object".into()
            }
        }
        _ => "a value".into(),
    }
}

/// A string value's text, bounded.
pub fn string(value: &Unknown<'_>) -> Option<String> {
    let s = value.coerce_to_string().ok()?.into_utf8().ok()?;
    Some(bounded(s.as_str().ok()?, SHOWN_CHARS))
}

/// `Symbol(description)` for a symbol value.
pub fn symbol(value: &Unknown<'_>) -> String {
    let description = value
        .coerce_to_object()
        .ok()
        .and_then(|o: Object| o.get_named_property::<Unknown>("description").ok())
        .filter(|d| d.get_type().ok() == Some(ValueType::String))
        .and_then(|d| string(&d));
    format!("Symbol({})", description.unwrap_or_default())
}

/// `s` as JSON quotes it, like JS's `JSON.stringify`.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}
