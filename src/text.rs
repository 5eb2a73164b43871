//! Text for messages that reach JS users: numbers as JS prints them, and
//! values cut to a bounded length.

/// `x` as JS's `String(x)` prints it: `Infinity`, `NaN`, `1e+300`, `0.1`,
/// `-0` as `0`, and integers without a fraction.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let abs = x.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust prints the shortest digits that round-trip, like JS, and
        // never uses an exponent for `{}`.
        format!("{x}")
    } else {
        // `1.5e300` → `1.5e+300`, `1e-7` stays `1e-7`.
        let s = format!("{x:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    }
}

/// At most `max` characters of `s`, with `…` when cut.
pub fn bounded(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_js() {
        for (x, js) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (-0.1, "-0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e300, "1e+300"),
            (1e30, "1e+30"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1099511627776.0, "1099511627776"),
            (9007199254740991.0, "9007199254740991"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(js_number(x), js, "{x:?}");
        }
    }

    #[test]
    fn bounded_cuts_on_characters() {
        assert_eq!(bounded("abc", 3), "abc");
        assert_eq!(bounded("abcd", 3), "abc…");
        assert_eq!(bounded("ééé", 2), "éé…");
        assert_eq!(bounded("", 0), "");
    }
}
