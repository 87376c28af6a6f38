//! Runtime values and the XPath 1.0 conversions between them.

use crate::dates;

/// A value produced by evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    Str(String),
    /// A node-set, as the string values of its nodes (document order).
    Nodes(Vec<String>),
}

impl Value {
    /// XPath `boolean()`: numbers are true unless zero or NaN, strings and
    /// node-sets unless empty.
    pub fn to_bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::Nodes(n) => !n.is_empty(),
        }
    }

    /// XPath `number()`: booleans are 1/0; strings must be (after trimming
    /// whitespace) an optional `-` and a decimal number, else NaN; as in
    /// JavaRosa, ISO dates and date-times convert to days since 1970-01-01.
    /// A node-set converts through its first node's string value.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::Str(s) => string_to_number(s),
            Value::Nodes(n) => n.first().map_or(f64::NAN, |s| string_to_number(s)),
        }
    }

    /// XPath `string()`: see [`format_number`] for numbers; a node-set gives
    /// its first node's value or "".
    pub fn to_string_value(&self) -> String {
        match self {
            Value::Bool(b) => if *b { "true" } else { "false" }.to_string(),
            Value::Number(n) => format_number(*n),
            Value::Str(s) => s.clone(),
            Value::Nodes(n) => n.first().cloned().unwrap_or_default(),
        }
    }
}

/// Number to string: integers without ".0", `NaN`, `Infinity`, `-Infinity`,
/// otherwise the shortest decimal that round-trips (never an exponent).
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n == 0.0 {
        "0".to_string()
    } else {
        format!("{n}")
    }
}

/// XPath number grammar: `\s* -? (\d+ (\.\d*)? | \.\d+) \s*`, else a date, else NaN.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let valid = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    if valid {
        return t.parse::<f64>().unwrap_or(f64::NAN);
    }
    dates::string_to_days(t).unwrap_or(f64::NAN)
}
