//! `$filter`: the subset of OData's expression language that ODK Central supports on submissions.
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | compare
//! compare := operand [ ("eq"|"ne"|"lt"|"le"|"gt"|"ge") operand ]
//! operand := member | literal
//! member  := __system/submissionDate | __system/updatedAt | __system/submitterId
//!          | __system/reviewState | __id
//! literal := null | true | false | integer | 'text' | 2026-01-31 | 2026-01-31T10:00:00Z …
//! ```
//!
//! A comparison sets one member against one literal (either side). Dates are compared to the
//! second; a literal with a fraction of a second is rounded the way that keeps the comparison
//! exact. Comparing with `null` follows OData: `eq null` and `ne null` test for absence, while
//! `lt`, `le`, `gt` and `ge` with `null` are false. Functions (`year()`, `now()`…), arithmetic,
//! `has`, `in` and lambdas are refused as unsupported, as are other members (form fields).

use crate::time::{parse_date, parse_datetime};
use crate::ODataError;

/// The longest `$filter` accepted, in characters.
pub const MAX_FILTER_CHARS: usize = 4096;
/// The deepest nesting of `not` and parentheses accepted.
pub const MAX_DEPTH: usize = 64;

/// A member a filter may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysField {
    /// When the submission (its first version) was received, in Unix seconds.
    SubmissionDate,
    /// When its current version was received, if it was edited.
    UpdatedAt,
    /// Who submitted it: an account id, or minus an app user's id.
    SubmitterId,
    /// `null` (received), `edited`, `hasIssues`, `approved`, `rejected`.
    ReviewState,
    /// The submission's instanceID (its first version's).
    InstanceId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }
}

/// A literal, once checked against its member: dates are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lit {
    Null,
    Int(i64),
    Text(String),
}

/// A checked filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Const(bool),
    Cmp(SysField, CmpOp, Lit),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Word(String),
    Text(String),
    /// A number, date or date-time, as written.
    Num(String),
}

struct Lexed {
    tok: Tok,
    /// 1-based character position.
    at: usize,
}

fn invalid(at: usize, what: impl std::fmt::Display) -> ODataError {
    ODataError::Invalid(format!("$filter, at character {at}: {what}"))
}

fn unsupported(at: usize, what: impl std::fmt::Display) -> ODataError {
    ODataError::Unsupported(format!("$filter, at character {at}: {what}"))
}

fn lex(s: &str) -> Result<Vec<Lexed>, ODataError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Lexed {
                    tok: Tok::LParen,
                    at,
                });
                i += 1;
            }
            ')' => {
                out.push(Lexed {
                    tok: Tok::RParen,
                    at,
                });
                i += 1;
            }
            ',' => {
                out.push(Lexed {
                    tok: Tok::Comma,
                    at,
                });
                i += 1;
            }
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(invalid(at, "a text literal is not closed with '")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Lexed {
                    tok: Tok::Text(text),
                    at,
                });
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while let Some(&ch) = chars.get(i) {
                    if ch.is_ascii_alphanumeric() || matches!(ch, ':' | '.' | '+' | '-') {
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push(Lexed {
                    tok: Tok::Num(chars[start..i].iter().collect()),
                    at,
                });
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while let Some(&ch) = chars.get(i) {
                    if ch.is_alphanumeric() || matches!(ch, '_' | '/' | '.' | '$') {
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push(Lexed {
                    tok: Tok::Word(chars[start..i].iter().collect()),
                    at,
                });
            }
            other => return Err(invalid(at, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

/// One side of a comparison, before checking.
#[derive(Debug, Clone)]
enum Operand {
    Member(SysField),
    Null,
    Bool(bool),
    Text(String),
    Num(String),
}

struct Parser {
    toks: Vec<Lexed>,
    pos: usize,
    len: usize,
}

const OPERATORS: &[(&str, CmpOp)] = &[
    ("eq", CmpOp::Eq),
    ("ne", CmpOp::Ne),
    ("lt", CmpOp::Lt),
    ("le", CmpOp::Le),
    ("gt", CmpOp::Gt),
    ("ge", CmpOp::Ge),
];

const UNSUPPORTED_WORDS: &[&str] = &["add", "sub", "mul", "div", "divby", "mod", "has", "in"];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|l| &l.tok)
    }

    fn at(&self) -> usize {
        self.toks
            .get(self.pos)
            .map(|l| l.at)
            .unwrap_or(self.len + 1)
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn expr(&mut self, depth: usize) -> Result<Filter, ODataError> {
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.pos += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, ODataError> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.pos += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, ODataError> {
        if depth >= MAX_DEPTH {
            return Err(invalid(self.at(), "the expression nests too deeply"));
        }
        if self.peek_word("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            let open = self.at();
            self.pos += 1;
            let inner = self.expr(depth + 1)?;
            if self.peek() != Some(&Tok::RParen) {
                return Err(invalid(open, "this parenthesis is not closed"));
            }
            self.pos += 1;
            if let Some(Tok::Word(w)) = self.peek() {
                if OPERATORS.iter().any(|(o, _)| o == w) {
                    return Err(unsupported(
                        self.at(),
                        "comparing the result of a parenthesised expression is not supported",
                    ));
                }
            }
            return Ok(inner);
        }
        self.compare()
    }

    fn operand(&mut self) -> Result<Operand, ODataError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return Err(invalid(at, "the expression ends too early"));
        };
        self.pos += 1;
        let op = match tok {
            Tok::Text(t) => Operand::Text(t),
            Tok::Num(n) => Operand::Num(n),
            Tok::Word(w) => {
                if self.peek() == Some(&Tok::LParen) {
                    return Err(unsupported(
                        at,
                        format!("the function {w}() is not supported"),
                    ));
                }
                if matches!(self.peek(), Some(Tok::Text(_))) {
                    return Err(unsupported(
                        at,
                        format!("{w}'…' literals are not supported"),
                    ));
                }
                match w.as_str() {
                    "null" => Operand::Null,
                    "true" => Operand::Bool(true),
                    "false" => Operand::Bool(false),
                    "__system/submissionDate" => Operand::Member(SysField::SubmissionDate),
                    "__system/updatedAt" => Operand::Member(SysField::UpdatedAt),
                    "__system/submitterId" => Operand::Member(SysField::SubmitterId),
                    "__system/reviewState" => Operand::Member(SysField::ReviewState),
                    "__id" => Operand::Member(SysField::InstanceId),
                    w if UNSUPPORTED_WORDS.contains(&w) || w.starts_with('$') => {
                        return Err(unsupported(at, format!("{w} is not supported")))
                    }
                    "and" | "or" | "not" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
                        return Err(invalid(at, format!("a value is missing before {w}")))
                    }
                    other => {
                        return Err(unsupported(
                            at,
                            format!(
                                "filtering on {other} is not supported; use __system/submissionDate, \
                                 __system/updatedAt, __system/submitterId, __system/reviewState or __id"
                            ),
                        ))
                    }
                }
            }
            Tok::LParen | Tok::RParen | Tok::Comma => {
                return Err(invalid(at, "a value is missing here"))
            }
        };
        Ok(op)
    }

    fn compare(&mut self) -> Result<Filter, ODataError> {
        let start = self.at();
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Word(w)) => OPERATORS.iter().find(|(o, _)| o == w).map(|(_, op)| *op),
            _ => None,
        };
        let Some(op) = op else {
            if let Some(Tok::Word(w)) = self.peek() {
                if UNSUPPORTED_WORDS.contains(&w.as_str()) {
                    return Err(unsupported(self.at(), format!("{w} is not supported")));
                }
            }
            return match left {
                Operand::Bool(b) => Ok(Filter::Const(b)),
                _ => Err(invalid(
                    start,
                    "expected a comparison such as __system/submissionDate ge 2026-01-01",
                )),
            };
        };
        self.pos += 1;
        let right_at = self.at();
        let right = self.operand()?;
        let lit_at = if matches!(right, Operand::Member(_)) {
            start
        } else {
            right_at
        };
        check(left, op, right, lit_at)
    }
}

/// Checks a comparison and turns it into a [`Filter`].
fn check(left: Operand, op: CmpOp, right: Operand, at: usize) -> Result<Filter, ODataError> {
    let (field, op, lit) = match (left, right) {
        (Operand::Member(..), Operand::Member(..)) => {
            return Err(unsupported(at, "comparing two members is not supported"))
        }
        (Operand::Member(f), lit) => (f, op, lit),
        (lit, Operand::Member(f)) => (f, op.flipped(), lit),
        _ => {
            return Err(unsupported(
                at,
                "a comparison needs a member such as __system/submissionDate",
            ))
        }
    };
    let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
    if matches!(lit, Operand::Null) {
        // OData: ordering comparisons with null are false.
        return Ok(if ordering {
            Filter::Const(false)
        } else {
            Filter::Cmp(field, op, Lit::Null)
        });
    }
    match field {
        SysField::SubmissionDate | SysField::UpdatedAt => {
            let text = match &lit {
                Operand::Num(n) | Operand::Text(n) => n.as_str(),
                _ => "",
            };
            let (secs, fraction) = if let Some(d) = parse_date(text) {
                (d, false)
            } else if let Some(dt) = parse_datetime(text) {
                dt
            } else {
                return Err(invalid(
                    at,
                    "compare dates with a date such as 2026-01-31 or a date and time such as \
                     2026-01-31T10:00:00Z",
                ));
            };
            Ok(round(field, op, secs, fraction))
        }
        SysField::SubmitterId => {
            let n = match &lit {
                Operand::Num(n) | Operand::Text(n) => n.parse::<i64>().ok(),
                _ => None,
            };
            match n {
                Some(n) => Ok(Filter::Cmp(field, op, Lit::Int(n))),
                None => Err(invalid(
                    at,
                    "__system/submitterId is compared with a number",
                )),
            }
        }
        SysField::ReviewState | SysField::InstanceId => {
            let Operand::Text(t) = lit else {
                return Err(invalid(
                    at,
                    "this member is compared with a text such as 'approved'",
                ));
            };
            if ordering {
                return Err(unsupported(at, "only eq and ne compare texts"));
            }
            Ok(Filter::Cmp(field, op, Lit::Text(t)))
        }
    }
}

/// Stored times are whole seconds: a literal with a fraction (`t = secs + f`, `0 < f < 1`)
/// becomes an exact comparison with whole seconds.
fn round(field: SysField, op: CmpOp, secs: i64, fraction: bool) -> Filter {
    if !fraction {
        return Filter::Cmp(field, op, Lit::Int(secs));
    }
    match op {
        // x = t never holds for a whole x (nor for null); x ≠ t always does.
        CmpOp::Eq => Filter::Const(false),
        CmpOp::Ne => Filter::Const(true),
        // x < t ⇔ x ≤ secs; x ≤ t ⇔ x ≤ secs; x > t ⇔ x > secs; x ≥ t ⇔ x > secs.
        CmpOp::Lt | CmpOp::Le => Filter::Cmp(field, CmpOp::Le, Lit::Int(secs)),
        CmpOp::Gt | CmpOp::Ge => Filter::Cmp(field, CmpOp::Gt, Lit::Int(secs)),
    }
}

/// Parses and checks a `$filter`.
pub fn parse_filter(s: &str) -> Result<Filter, ODataError> {
    let len = s.chars().count();
    if len > MAX_FILTER_CHARS {
        return Err(ODataError::Invalid(format!(
            "$filter is longer than {MAX_FILTER_CHARS} characters"
        )));
    }
    let toks = lex(s)?;
    if toks.is_empty() {
        return Err(ODataError::Invalid("$filter is empty".into()));
    }
    let mut p = Parser { toks, pos: 0, len };
    let f = p.expr(0)?;
    if p.pos < p.toks.len() {
        let at = p.at();
        return Err(match p.peek() {
            Some(Tok::Word(w)) if UNSUPPORTED_WORDS.contains(&w.as_str()) => {
                unsupported(at, format!("{w} is not supported"))
            }
            _ => invalid(at, "unexpected text after a complete expression"),
        });
    }
    Ok(f)
}

impl Filter {
    /// Evaluates the filter on one submission's facts, with OData's rules for null (the reference
    /// the store's SQL follows; its tests check the same cases).
    pub fn eval(&self, get: &dyn Fn(SysField) -> Lit) -> bool {
        match self {
            Filter::Const(b) => *b,
            Filter::Not(f) => !f.eval(get),
            Filter::And(a, b) => a.eval(get) && b.eval(get),
            Filter::Or(a, b) => a.eval(get) || b.eval(get),
            Filter::Cmp(field, op, lit) => {
                let value = get(*field);
                match (lit, &value) {
                    (Lit::Null, v) => match op {
                        CmpOp::Eq => *v == Lit::Null,
                        CmpOp::Ne => *v != Lit::Null,
                        _ => false,
                    },
                    (_, Lit::Null) => *op == CmpOp::Ne,
                    (a, b) => {
                        let ord = match (b, a) {
                            (Lit::Int(x), Lit::Int(y)) => x.cmp(y),
                            (Lit::Text(x), Lit::Text(y)) => x.cmp(y),
                            _ => return *op == CmpOp::Ne,
                        };
                        use std::cmp::Ordering::*;
                        match op {
                            CmpOp::Eq => ord == Equal,
                            CmpOp::Ne => ord != Equal,
                            CmpOp::Lt => ord == Less,
                            CmpOp::Le => ord != Greater,
                            CmpOp::Gt => ord == Greater,
                            CmpOp::Ge => ord != Less,
                        }
                    }
                }
            }
        }
    }
}
