//! Tokens, with XPath 1.0's context-dependent reading of `*` and operator words.

use crate::{codes, ExprError, Span};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Number(f64),
    Literal(String),
    Ref(String),
    /// A name test or function name: `a`, `jr:a`, `*`, `jr:*`.
    Name(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Slash,
    DSlash,
    Dot,
    DDot,
    At,
    Pipe,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Div,
    Mod,
    Mul,
    Eof,
    /// A lexical error; lexing stops here, the parser reports it on reaching it.
    Error(ExprError),
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub(crate) fn is_name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

pub(crate) fn is_name_char(c: char) -> bool {
    c == '_' || c == '-' || c == '.' || c.is_alphanumeric()
}

/// Whether `s` is a valid `${…}` name (NCName-ish).
pub(crate) fn is_valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start(c) => chars.all(is_name_char),
        _ => false,
    }
}

/// Whether the previous token leaves us in operator position (XPath 1.0 §3.7).
fn operator_position(prev: Option<&Tok>) -> bool {
    matches!(
        prev,
        Some(
            Tok::Number(_)
                | Tok::Literal(_)
                | Tok::Ref(_)
                | Tok::Name(_)
                | Tok::RParen
                | Tok::RBracket
                | Tok::Dot
                | Tok::DDot
        )
    )
}

/// Splits `src` into tokens, always ending with `Eof` or `Error`.
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    loop {
        while i < src.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= src.len() {
            out.push(Token {
                tok: Tok::Eof,
                span: Span::new(src.len(), src.len()),
            });
            return out;
        }
        let op_pos = operator_position(out.last().map(|t| &t.tok));
        let (tok, end) = lex_one(src, i, op_pos);
        let is_err = matches!(tok, Tok::Error(_));
        out.push(Token {
            tok,
            span: Span::new(i, end),
        });
        if is_err {
            return out;
        }
        i = end;
    }
}

/// Lexes one token starting at byte `i` (not whitespace); returns it and its end.
fn lex_one(src: &str, i: usize, op_pos: bool) -> (Tok, usize) {
    let rest = &src[i..];
    // `i` is a char boundary and not at the end, checked by the caller.
    let c = rest.chars().next().unwrap_or(' ');
    let two = |t: Tok| (t, i + 2);
    let one = |t: Tok| (t, i + 1);
    match c {
        '(' => one(Tok::LParen),
        ')' => one(Tok::RParen),
        '[' => one(Tok::LBracket),
        ']' => one(Tok::RBracket),
        ',' => one(Tok::Comma),
        '@' => one(Tok::At),
        '|' => one(Tok::Pipe),
        '+' => one(Tok::Plus),
        '-' => one(Tok::Minus),
        '=' => one(Tok::Eq),
        '/' if rest.starts_with("//") => two(Tok::DSlash),
        '/' => one(Tok::Slash),
        '!' if rest.starts_with("!=") => two(Tok::Ne),
        '<' if rest.starts_with("<=") => two(Tok::Le),
        '<' => one(Tok::Lt),
        '>' if rest.starts_with(">=") => two(Tok::Ge),
        '>' => one(Tok::Gt),
        '*' if op_pos => one(Tok::Mul),
        '*' => one(Tok::Name("*".into())),
        '\'' | '"' => match rest[1..].find(c) {
            Some(j) => (Tok::Literal(rest[1..1 + j].to_string()), i + j + 2),
            None => (
                Tok::Error(ExprError::new(
                    codes::UNCLOSED_STRING,
                    Span::new(i, src.len()),
                    "string literal is not closed",
                )),
                src.len(),
            ),
        },
        '$' => lex_ref(src, i),
        '.' if rest.starts_with("..") => two(Tok::DDot),
        '.' if rest[1..].starts_with(|d: char| d.is_ascii_digit()) => lex_number(src, i),
        '.' => one(Tok::Dot),
        d if d.is_ascii_digit() => lex_number(src, i),
        n if is_name_start(n) => lex_name(src, i, op_pos),
        other => {
            let end = i + other.len_utf8();
            (
                Tok::Error(ExprError::new(
                    codes::SYNTAX,
                    Span::new(i, end),
                    other.to_string(),
                )),
                end,
            )
        }
    }
}

fn lex_number(src: &str, i: usize) -> (Tok, usize) {
    let bytes = src.as_bytes();
    let mut end = i;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    let text = &src[i..end];
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => (Tok::Number(n), end),
        _ => (
            Tok::Error(ExprError::new(
                codes::SYNTAX,
                Span::new(i, end),
                format!("number out of range: {text}"),
            )),
            end,
        ),
    }
}

fn lex_name(src: &str, i: usize, op_pos: bool) -> (Tok, usize) {
    let end = name_end(src, i);
    let word = &src[i..end];
    if op_pos {
        let op = match word {
            "and" => Some(Tok::And),
            "or" => Some(Tok::Or),
            "div" => Some(Tok::Div),
            "mod" => Some(Tok::Mod),
            _ => None,
        };
        if let Some(op) = op {
            return (op, end);
        }
    }
    // A prefixed name `p:local` or `p:*` (but not an axis `p::`).
    let rest = &src[end..];
    if let Some(after) = rest.strip_prefix(':') {
        if after.starts_with('*') {
            return (Tok::Name(src[i..end + 2].to_string()), end + 2);
        }
        if after.starts_with(is_name_start) {
            let end2 = name_end(src, end + 1);
            return (Tok::Name(src[i..end2].to_string()), end2);
        }
    }
    (Tok::Name(word.to_string()), end)
}

/// End of the NCName starting at `i` (which is a name start char).
fn name_end(src: &str, i: usize) -> usize {
    src[i..]
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(src.len(), |(j, _)| i + j)
}

fn lex_ref(src: &str, i: usize) -> (Tok, usize) {
    let rest = &src[i..];
    let bad = |end: usize, detail: &str| {
        (
            Tok::Error(ExprError::new(
                codes::BAD_REFERENCE,
                Span::new(i, end),
                detail.to_string(),
            )),
            end,
        )
    };
    if !rest.starts_with("${") {
        return (
            Tok::Error(ExprError::new(codes::SYNTAX, Span::new(i, i + 1), "$")),
            i + 1,
        );
    }
    match rest[2..].find('}') {
        None => bad(src.len(), "reference is not closed with }"),
        Some(j) => {
            let name = &rest[2..2 + j];
            let end = i + 2 + j + 1;
            if name.is_empty() {
                bad(end, "empty reference ${}")
            } else if !is_valid_name(name) {
                bad(end, &format!("invalid name in reference: {name}"))
            } else {
                (Tok::Ref(name.to_string()), end)
            }
        }
    }
}

/// The source text of a token, for error details.
pub(crate) fn token_text(src: &str, t: &Token) -> String {
    if matches!(t.tok, Tok::Eof) {
        "end of expression".to_string()
    } else {
        src.get(t.span.start..t.span.end).unwrap_or("").to_string()
    }
}
