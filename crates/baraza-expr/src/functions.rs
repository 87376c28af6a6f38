//! The function table (names and arities) and the functions' evaluation.

use crate::ast::{arity_problem, Expr};
use crate::dates::{self, DateTime};
use crate::eval::{nodes_of, Ev};
use crate::value::string_to_number;
use crate::{codes, ExprError, Span, Value};

/// Known functions: (name, minimum arguments, maximum or `None` if variadic).
pub const FUNCTIONS: &[(&str, usize, Option<usize>)] = &[
    ("if", 3, Some(3)),
    ("coalesce", 2, Some(2)),
    ("concat", 0, None),
    ("selected", 2, Some(2)),
    ("count-selected", 1, Some(1)),
    ("jr:choice-name", 2, Some(2)),
    ("selected-at", 2, Some(2)),
    ("string-length", 0, Some(1)),
    ("substr", 2, Some(3)),
    ("substring", 2, Some(3)),
    ("substring-before", 2, Some(2)),
    ("substring-after", 2, Some(2)),
    ("contains", 2, Some(2)),
    ("starts-with", 2, Some(2)),
    ("ends-with", 2, Some(2)),
    ("translate", 3, Some(3)),
    ("normalize-space", 0, Some(1)),
    ("lower-case", 1, Some(1)),
    ("upper-case", 1, Some(1)),
    ("string", 0, Some(1)),
    ("number", 0, Some(1)),
    ("boolean", 1, Some(1)),
    ("boolean-from-string", 1, Some(1)),
    ("not", 1, Some(1)),
    ("true", 0, Some(0)),
    ("false", 0, Some(0)),
    ("int", 1, Some(1)),
    ("round", 1, Some(2)),
    ("floor", 1, Some(1)),
    ("ceiling", 1, Some(1)),
    ("abs", 1, Some(1)),
    ("pow", 2, Some(2)),
    ("sqrt", 1, Some(1)),
    ("exp", 1, Some(1)),
    ("exp10", 1, Some(1)),
    ("log", 1, Some(1)),
    ("log10", 1, Some(1)),
    ("sin", 1, Some(1)),
    ("cos", 1, Some(1)),
    ("tan", 1, Some(1)),
    ("asin", 1, Some(1)),
    ("acos", 1, Some(1)),
    ("atan", 1, Some(1)),
    ("atan2", 2, Some(2)),
    ("pi", 0, Some(0)),
    ("min", 1, None),
    ("max", 1, None),
    ("sum", 1, Some(1)),
    ("count", 1, Some(1)),
    ("count-non-empty", 1, Some(1)),
    ("position", 0, Some(1)),
    ("last", 0, Some(0)),
    ("current", 0, Some(0)),
    ("today", 0, Some(0)),
    ("now", 0, Some(0)),
    ("date", 1, Some(1)),
    ("date-time", 1, Some(1)),
    ("decimal-date", 1, Some(1)),
    ("decimal-date-time", 1, Some(1)),
    ("decimal-time", 1, Some(1)),
    ("format-date", 2, Some(2)),
    ("format-date-time", 2, Some(2)),
    ("regex", 2, Some(2)),
    ("join", 2, None),
    ("uuid", 0, Some(1)),
    ("random", 0, Some(0)),
    ("randomize", 1, Some(2)),
    ("once", 1, Some(1)),
    ("indexed-repeat", 3, None),
    ("area", 1, Some(1)),
    ("distance", 1, None),
    ("digest", 2, Some(3)),
    ("base64-decode", 1, Some(1)),
    ("checklist", 2, None),
    ("weighted-checklist", 3, None),
    ("jr:itext", 1, Some(1)),
    ("pulldata", 4, Some(4)),
    ("instance", 1, Some(1)),
];

/// The arity (min, max or `None` if variadic) of a known function.
pub fn function_arity(name: &str) -> Option<(usize, Option<usize>)> {
    FUNCTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, min, max)| (min, max))
}

/// Longest `regex()` pattern accepted, in bytes.
const MAX_REGEX_LEN: usize = 1_000;
/// Compiled-size limit for `regex()` patterns.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Evaluated arguments of a call.
struct Call<'e, 'a> {
    ev: &'e Ev<'a>,
    vals: &'e [Value],
}

impl Call<'_, '_> {
    fn arg(&self, i: usize) -> Result<Value, ExprError> {
        // Arity is checked before any argument is read; "" is never used.
        Ok(self
            .vals
            .get(i)
            .cloned()
            .unwrap_or(Value::Str(String::new())))
    }
    fn s(&self, i: usize) -> Result<String, ExprError> {
        Ok(self.arg(i)?.to_string_value())
    }
    fn n(&self, i: usize) -> Result<f64, ExprError> {
        Ok(self.vals.get(i).map_or(f64::NAN, Value::to_number))
    }
    fn b(&self, i: usize) -> Result<bool, ExprError> {
        Ok(self.arg(i)?.to_bool())
    }
    /// Argument `i`, or the current node when absent.
    fn arg_or_current(&self, i: usize) -> Result<Value, ExprError> {
        if self.vals.len() > i {
            self.arg(i)
        } else {
            Ok(self.ev.current())
        }
    }
    fn math(&self, f: fn(f64) -> f64) -> Result<Value, ExprError> {
        Ok(Value::Number(f(self.n(0)?)))
    }
    /// Numbers of all nodes of all arguments from `from` on.
    fn numbers(&self, from: usize) -> Result<Vec<f64>, ExprError> {
        let mut out = Vec::new();
        for i in from..self.vals.len() {
            match self.arg(i)? {
                Value::Nodes(n) => out.extend(n.iter().map(|s| string_to_number(s))),
                v => out.push(v.to_number()),
            }
        }
        Ok(out)
    }
}

fn unsupported(name: &str, span: Span) -> ExprError {
    ExprError::new(
        codes::EVAL_UNSUPPORTED,
        span,
        format!("{name}() cannot be evaluated here"),
    )
}

fn no_position(name: &str, span: Span) -> ExprError {
    ExprError::new(
        codes::EVAL_NO_POSITION,
        span,
        format!("{name}() needs a repeat or predicate context"),
    )
}

fn s(v: impl Into<String>) -> Value {
    Value::Str(v.into())
}

/// Evaluates the call `name(args)`. Only the functions that must not
/// evaluate all their arguments are handled here; the others get their
/// arguments evaluated and go to [`apply`], which does not recurse (so its
/// large frame is paid once, not per nesting level).
pub(crate) fn call(
    ev: &Ev<'_>,
    name: &str,
    args: &[Expr],
    span: Span,
    d: usize,
) -> Result<Value, ExprError> {
    if let Some(problem) = arity_problem(name, args.len(), span, true) {
        return Err(problem);
    }
    let arg = |i: usize| -> Result<Value, ExprError> {
        match args.get(i) {
            Some(a) => ev.eval(a, d),
            // Arity was checked above.
            None => Ok(Value::Str(String::new())),
        }
    };
    match name {
        "if" => {
            let cond = arg(0)?.to_bool();
            return arg(if cond { 1 } else { 2 });
        }
        "once" => {
            let cur = ev.ctx.current();
            return if cur.to_string_value().is_empty() {
                arg(0)
            } else {
                Ok(cur)
            };
        }
        // position(..) names the node whose position is wanted; we only know
        // the current repeat's, so the argument is not evaluated.
        "position" | "last" => return apply(ev, name, &[], span),
        "indexed-repeat" => {
            if args.len() != 3 {
                return Err(unsupported("nested indexed-repeat", span));
            }
            // The repeat (argument 2) is not a value; it is not evaluated.
            let vals = [arg(0)?, Value::Bool(false), arg(2)?];
            return apply(ev, name, &vals, span);
        }
        _ => {}
    }
    let mut vals = Vec::with_capacity(args.len());
    for a in args {
        // decimal-date-time(now()): the context's exact now, in days.
        let exact_now = NUMERIC.contains(&name)
            && matches!(a, Expr::Call { name: n, args: a2, .. } if n == "now" && a2.is_empty());
        vals.push(if exact_now {
            Value::Number(ev.ctx.now_days())
        } else {
            ev.eval(a, d)?
        });
    }
    apply(ev, name, &vals, span)
}

/// Functions whose arguments are numbers (so `now()` may be passed as days).
const NUMERIC: [&str; 2] = ["decimal-date-time", "decimal-date"];

#[inline(never)]
fn apply(ev: &Ev<'_>, name: &str, vals: &[Value], span: Span) -> Result<Value, ExprError> {
    let c = Call { ev, vals };
    let v = match name {
        "coalesce" => {
            let a = c.arg(0)?;
            if a.to_string_value().is_empty() {
                c.arg(1)?
            } else {
                a
            }
        }
        "concat" => {
            let mut out = String::new();
            for i in 0..vals.len() {
                out.push_str(&c.s(i)?);
            }
            s(out)
        }
        "selected" => {
            let list = c.s(0)?;
            let item = c.s(1)?;
            let item = item.trim();
            Value::Bool(list.split_whitespace().any(|t| t == item))
        }
        "count-selected" => Value::Number(c.s(0)?.split_whitespace().count() as f64),
        "selected-at" => {
            let list = c.s(0)?;
            let i = c.n(1)?;
            let item = if i >= 0.0 {
                list.split_whitespace().nth(i as usize)
            } else {
                None
            };
            s(item.unwrap_or(""))
        }
        "jr:choice-name" => {
            let value = c.s(0)?;
            let field = c.s(1)?;
            let field = field.trim();
            let field = field
                .strip_prefix("${")
                .and_then(|f| f.strip_suffix('}'))
                .unwrap_or_else(|| field.rsplit('/').next().unwrap_or(field));
            s(ev.ctx.choice_label(field, &value).unwrap_or_default())
        }
        "string-length" => {
            Value::Number(c.arg_or_current(0)?.to_string_value().chars().count() as f64)
        }
        "substr" => {
            let text: Vec<char> = c.s(0)?.chars().collect();
            let len = text.len() as i64;
            // `as` saturates and maps NaN to 0, like Java's (int) cast.
            let start = (c.n(1)? as i64).clamp(0, len);
            let end = if vals.len() > 2 {
                (c.n(2)? as i64).clamp(start, len)
            } else {
                len
            };
            s(text[start as usize..end as usize]
                .iter()
                .collect::<String>())
        }
        "substring" => {
            let text = c.s(0)?;
            let start = xpath_round(c.n(1)?);
            let end = if vals.len() > 2 {
                start + xpath_round(c.n(2)?)
            } else {
                f64::INFINITY
            };
            let out: String = text
                .chars()
                .enumerate()
                .filter(|(i, _)| {
                    let p = (*i + 1) as f64;
                    p >= start && p < end
                })
                .map(|(_, ch)| ch)
                .collect();
            s(out)
        }
        "substring-before" => {
            let (a, b) = (c.s(0)?, c.s(1)?);
            s(a.find(&b).map_or("", |i| &a[..i]))
        }
        "substring-after" => {
            let (a, b) = (c.s(0)?, c.s(1)?);
            s(a.find(&b).map_or("", |i| &a[i + b.len()..]))
        }
        "contains" => Value::Bool(c.s(0)?.contains(&c.s(1)?)),
        "starts-with" => Value::Bool(c.s(0)?.starts_with(&c.s(1)?)),
        "ends-with" => Value::Bool(c.s(0)?.ends_with(&c.s(1)?)),
        "translate" => {
            let text = c.s(0)?;
            let from: Vec<char> = c.s(1)?.chars().collect();
            let to: Vec<char> = c.s(2)?.chars().collect();
            let out: String = text
                .chars()
                .filter_map(|ch| match from.iter().position(|&f| f == ch) {
                    Some(i) => to.get(i).copied(),
                    None => Some(ch),
                })
                .collect();
            s(out)
        }
        "normalize-space" => {
            let text = c.arg_or_current(0)?.to_string_value();
            s(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        "lower-case" => s(c.s(0)?.to_lowercase()),
        "upper-case" => s(c.s(0)?.to_uppercase()),
        "string" => s(c.arg_or_current(0)?.to_string_value()),
        "number" => {
            if vals.is_empty() {
                Value::Number(ev.current().to_number())
            } else {
                Value::Number(c.n(0)?)
            }
        }
        "boolean" => Value::Bool(c.b(0)?),
        "boolean-from-string" => {
            let text = c.s(0)?;
            Value::Bool(matches!(text.trim(), "true" | "1"))
        }
        "not" => Value::Bool(!c.b(0)?),
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "int" => c.math(f64::trunc)?,
        "round" => {
            let x = c.n(0)?;
            if vals.len() > 1 {
                Value::Number(round_digits(x, c.n(1)?))
            } else {
                Value::Number(xpath_round(x))
            }
        }
        "floor" => c.math(f64::floor)?,
        "ceiling" => c.math(f64::ceil)?,
        "abs" => c.math(f64::abs)?,
        "pow" => Value::Number(c.n(0)?.powf(c.n(1)?)),
        "sqrt" => c.math(f64::sqrt)?,
        "exp" => c.math(f64::exp)?,
        "exp10" => c.math(|x| 10f64.powf(x))?,
        "log" => c.math(f64::ln)?,
        "log10" => c.math(f64::log10)?,
        "sin" => c.math(f64::sin)?,
        "cos" => c.math(f64::cos)?,
        "tan" => c.math(f64::tan)?,
        "asin" => c.math(f64::asin)?,
        "acos" => c.math(f64::acos)?,
        "atan" => c.math(f64::atan)?,
        "atan2" => Value::Number(c.n(0)?.atan2(c.n(1)?)),
        "pi" => Value::Number(std::f64::consts::PI),
        "min" | "max" => {
            let nums = c.numbers(0)?;
            let mut acc: Option<f64> = None;
            for x in nums {
                acc = Some(match acc {
                    _ if x.is_nan() => f64::NAN,
                    None => x,
                    Some(a) if a.is_nan() => a,
                    Some(a) if name == "min" => a.min(x),
                    Some(a) => a.max(x),
                });
            }
            Value::Number(acc.unwrap_or(f64::NAN))
        }
        "sum" => Value::Number(c.numbers(0)?.iter().sum()),
        "count" => Value::Number(nodes_of(c.arg(0)?).len() as f64),
        "count-non-empty" => {
            Value::Number(nodes_of(c.arg(0)?).iter().filter(|n| !n.is_empty()).count() as f64)
        }
        "position" => match ev.position() {
            Some(p) => Value::Number(p as f64),
            None => return Err(no_position(name, span)),
        },
        "last" => match ev.size() {
            Some(n) => Value::Number(n as f64),
            None => return Err(no_position(name, span)),
        },
        "current" => ev.ctx.current(),
        "today" => s(ev.ctx.today()),
        "now" => s(ev.ctx.now()),
        "date" => match to_datetime(&c.arg(0)?) {
            Some(dt) => s(dates::format_date(dt.days)),
            None => s(""),
        },
        "date-time" => match to_datetime(&c.arg(0)?) {
            Some(dt) => s(dates::format_datetime(dt)),
            None => s(""),
        },
        "decimal-date" | "decimal-date-time" => Value::Number(c.n(0)?),
        "decimal-time" => {
            let v = c.s(0)?;
            let t = v.trim();
            let frac = if let Some((ms, off)) = dates::parse_time(t) {
                let ms = ms - off.unwrap_or(0) * 60_000;
                (ms as f64 / 86_400_000.0).rem_euclid(1.0)
            } else {
                dates::string_to_days(t).map_or(f64::NAN, |days| days.rem_euclid(1.0))
            };
            Value::Number(frac)
        }
        "format-date" | "format-date-time" => {
            let pattern = c.s(1)?;
            match to_datetime(&c.arg(0)?) {
                Some(dt) => s(dates::format_pattern(dt, &pattern)),
                None => s(""),
            }
        }
        "regex" => {
            let text = c.s(0)?;
            let pattern = c.s(1)?;
            Value::Bool(regex_match(&text, &pattern, span)?)
        }
        "join" => {
            let sep = c.s(0)?;
            let mut items = Vec::new();
            for i in 1..vals.len() {
                items.extend(nodes_of(c.arg(i)?));
            }
            s(items.join(&sep))
        }
        "indexed-repeat" => {
            let i = c.n(2)?;
            let nodes = nodes_of(c.arg(0)?);
            let item = if i >= 1.0 && i.fract() == 0.0 {
                nodes.get(i as usize - 1).cloned()
            } else {
                None
            };
            s(item.unwrap_or_default())
        }
        "checklist" => {
            let (min, max) = (c.n(0)?, c.n(1)?);
            let mut count = 0.0;
            for i in 2..vals.len() {
                count += match c.arg(i)? {
                    Value::Nodes(n) => n.iter().filter(|x| !x.is_empty()).count() as f64,
                    v => f64::from(u8::from(v.to_bool())),
                };
            }
            Value::Bool(within(count, min, max))
        }
        "weighted-checklist" => {
            let pairs = vals.get(2..).unwrap_or(&[]);
            if pairs.chunks(2).any(|pair| pair.len() != 2) {
                return Err(ExprError::new(
                    codes::EVAL_ARITY,
                    span,
                    "weighted-checklist expects value, weight pairs after min and max",
                ));
            }
            let (min, max) = (c.n(0)?, c.n(1)?);
            let mut total = 0.0;
            for i in (2..vals.len()).step_by(2) {
                if c.b(i)? {
                    total += c.n(i + 1)?;
                }
            }
            Value::Bool(within(total, min, max))
        }
        "uuid" | "random" | "randomize" | "area" | "distance" | "digest" | "base64-decode"
        | "jr:itext" | "pulldata" | "instance" => return Err(unsupported(name, span)),
        // Every name in FUNCTIONS is handled above; arity_problem rejected the rest.
        _ => return Err(ExprError::new(codes::EVAL_UNKNOWN_FUNCTION, span, name)),
    };
    Ok(v)
}

/// `checklist` bounds: -1 means unbounded.
fn within(x: f64, min: f64, max: f64) -> bool {
    (min == -1.0 || x >= min) && (max == -1.0 || x <= max)
}

/// XPath `round()`: nearest integer, halves toward positive infinity.
pub(crate) fn xpath_round(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    if r == 0.0 && x < 0.0 {
        -0.0
    } else {
        r
    }
}

/// ODK `round(x, digits)`: half away from zero at the given decimal place.
pub(crate) fn round_digits(x: f64, digits: f64) -> f64 {
    if !x.is_finite() || digits.is_nan() {
        return if digits.is_nan() { f64::NAN } else { x };
    }
    let d = digits.trunc().clamp(-400.0, 400.0) as i32;
    if d >= 0 {
        let factor = 10f64.powi(d);
        let y = x * factor;
        if !y.is_finite() {
            return x;
        }
        y.round() / factor
    } else {
        let factor = 10f64.powi(-d);
        (x / factor).round() * factor
    }
}

/// A value as a date-time: numbers are days since the epoch, strings are
/// ISO dates/date-times or numeric days.
fn to_datetime(v: &Value) -> Option<DateTime> {
    match v {
        Value::Number(n) => DateTime::from_days(*n),
        Value::Bool(_) => None,
        Value::Str(_) | Value::Nodes(_) => {
            let text = v.to_string_value();
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            dates::parse_datetime(text).or_else(|| {
                let n = string_to_number(text);
                DateTime::from_days(n)
            })
        }
    }
}

fn regex_match(text: &str, pattern: &str, span: Span) -> Result<bool, ExprError> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(ExprError::new(
            codes::EVAL_BAD_REGEX,
            span,
            format!("regular expression longer than {MAX_REGEX_LEN} bytes"),
        ));
    }
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(100)
        .build()
        .map_err(|e| ExprError::new(codes::EVAL_BAD_REGEX, span, e.to_string()))?;
    Ok(re.is_match(text))
}
