//! # baraza-expr: the XLSForm expression language
//!
//! XLSForm puts small programs in its `relevant`, `constraint`, `calculation`,
//! `required`, `choice_filter`, `repeat_count` and `default` columns. They are
//! written in the XPath 1.0 dialect that ODK (JavaRosa, Enketo) evaluates, with
//! one XLSForm addition: `${name}` refers to another question by name. This
//! crate parses that language into an AST ([`Expr`]), checks it against the
//! table of known functions ([`Expr::check`]), prints it back either as XLSForm
//! source ([`std::fmt::Display`]) or as XForm XPath with every `${name}`
//! resolved to a path ([`Expr::to_xpath`]), and evaluates it ([`eval`]) against
//! a caller-supplied [`Context`]. The crate is pure: no IO, no clock, no
//! environment, no global state. Everything that depends on the outside world
//! (field values, the current node, the time, choice labels) comes through the
//! [`Context`] trait.
//!
//! **Parsing.** The lexer follows XPath 1.0's disambiguation rule: a `*` or
//! one of the words `and`, `or`, `div`, `mod` is an operator only when the
//! previous token could end an operand; elsewhere it is a name test, so
//! `/data/div` is a path. Names may contain `-` and `.` (`a-b` is one name;
//! write `a - b` to subtract). A name followed by `(` is a function call;
//! names may carry a prefix (`jr:choice-name`). Paths support `/`, `//`, `.`,
//! `..`, `@attr`, `*`, `prefix:*`, predicates on steps, and filter
//! expressions (`current()/../x`, `${x}[. > 3]`, `(a)/b`). One deliberate
//! deviation: an operator word standing alone as a one-step path (`and`,
//! `div = 1`) is rejected with `expr_syntax`, because in XLSForm it is
//! invariably a typo. The parser is a precedence climber with the XPath 1.0
//! levels `or` < `and` < `=` `!=` < `<` `<=` `>` `>=` < `+` `-` < `*` `div`
//! `mod` < unary `-` < `|` < path; all binary operators are left-associative.
//! Input is limited to [`MAX_LEN`] characters, the AST to [`MAX_DEPTH`]
//! levels and brackets to [`MAX_NESTING`] levels of nesting, so hostile input can neither exhaust the stack nor take
//! quadratic time. Errors carry a stable snake_case `code`, the byte [`Span`]
//! of the offending text, and a `detail`.
//!
//! **The AST and printing.** Parentheses are not kept in the AST; the printer
//! re-inserts the minimal set needed from precedence and associativity (left
//! operand parenthesised when it binds looser than the operator, right operand
//! when it binds looser or equally). Binary operators get single spaces, call
//! arguments are separated by `, `, strings are quoted with `'` unless they
//! contain one (then `"`), numbers print in shortest round-trip decimal form
//! without exponent. The printed form parses back to an equal AST. Source
//! spans are stored in [`Pos`] wrappers which compare equal regardless of
//! their content, so equality of ASTs is structural. As in pyxform, a
//! `${name}` inside a string literal (typically `jr:choice-name(${p}, '${p}')`)
//! counts as a reference and is resolved by [`Expr::to_xpath`].
//!
//! **Evaluation** follows XPath 1.0 with ODK's extensions: values are booleans,
//! numbers (f64), strings and node-sets (represented as the string values of
//! their nodes, as a repeat-aware [`Context`] returns them). `=` with a
//! node-set is true when any member matches; strings convert to numbers with
//! XPath `number()` rules (empty string is NaN), extended as in JavaRosa so
//! that ISO dates and date-times convert to days since 1970-01-01; relational
//! comparison of two strings that are not both numeric is lexical. Dates are
//! represented as `YYYY-MM-DD` strings, date-times as ISO 8601 strings.
//! Numbers print as integers when integral, `NaN`, `Infinity`, or shortest
//! decimal. All functions of the ODK function table are evaluated except the
//! ones that need the outside world or randomness.
//!
//! **Unsupported**: explicit axes (`child::x`) and node-type tests (`text()`
//! is read as a function call), XPath variables (`$x`); evaluation of location
//! paths other than `.` (error `expr_eval_path_unsupported`; evaluation is
//! meant to go through `${name}` references); and evaluation of `uuid`,
//! `random`, `randomize`, `area`, `distance`, `digest`, `base64-decode`,
//! `pulldata`, `instance`, `jr:itext` and nested `indexed-repeat` (error
//! `expr_eval_unsupported`), although [`Expr::check`] accepts them. Time
//! zones are not converted: date-time strings are formatted in their own
//! wall-clock time, and their offsets are honoured only when converting to
//! days.

mod ast;
mod dates;
mod eval;
mod functions;
mod lexer;
mod parser;
mod print;
mod value;

pub use ast::{BinOp, Expr, PathStart, Pos, Step};
pub use eval::{eval, Context};
pub use functions::{function_arity, FUNCTIONS};
pub use parser::parse;
pub use value::{format_number, Value};

/// Longest accepted source, in characters.
pub const MAX_LEN: usize = 100_000;
/// Deepest accepted AST (operators, calls, predicates, unary minus all count).
pub const MAX_DEPTH: usize = 200;
/// Deepest accepted nesting of brackets: `(…)`, calls `f(…)` and predicates
/// `[…]` (the parser recurses on these; real forms rarely exceed 5).
pub const MAX_NESTING: usize = 64;

/// A byte range in the expression source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A problem found while parsing, checking or evaluating an expression.
///
/// `code` is stable and snake_case; see the crate documentation and
/// [`codes`] for the list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} at {}..{}: {detail}", .span.start, .span.end)]
pub struct ExprError {
    pub code: &'static str,
    pub span: Span,
    pub detail: String,
}

impl ExprError {
    pub(crate) fn new(code: &'static str, span: Span, detail: impl Into<String>) -> ExprError {
        ExprError {
            code,
            span,
            detail: detail.into(),
        }
    }
}

/// The error codes this crate produces.
pub mod codes {
    /// Unexpected token; detail is the token text or "end of expression".
    pub const SYNTAX: &str = "expr_syntax";
    /// A `(` (of a group or a call) is never closed.
    pub const UNCLOSED_PAREN: &str = "expr_unclosed_paren";
    /// A string literal is never closed.
    pub const UNCLOSED_STRING: &str = "expr_unclosed_string";
    /// Malformed `${…}`.
    pub const BAD_REFERENCE: &str = "expr_bad_reference";
    /// AST deeper than [`crate::MAX_DEPTH`] or brackets nested deeper than
    /// [`crate::MAX_NESTING`].
    pub const TOO_DEEP: &str = "expr_too_deep";
    /// Source longer than [`crate::MAX_LEN`] characters.
    pub const TOO_LONG: &str = "expr_too_long";
    /// Empty or whitespace-only source.
    pub const EMPTY: &str = "expr_empty";
    /// `check`: a function not in the table; detail is its name.
    pub const UNKNOWN_FUNCTION: &str = "expr_unknown_function";
    /// `check`: wrong number of arguments.
    pub const ARITY: &str = "expr_arity";
    /// `eval`: the context knows no such `${name}`.
    pub const EVAL_UNKNOWN_REFERENCE: &str = "expr_eval_unknown_reference";
    /// `eval`: a location path other than `.`.
    pub const EVAL_PATH_UNSUPPORTED: &str = "expr_eval_path_unsupported";
    /// `eval`: a known function this crate cannot evaluate (uuid, random, geo, …).
    pub const EVAL_UNSUPPORTED: &str = "expr_eval_unsupported";
    /// `eval`: a function not in the table.
    pub const EVAL_UNKNOWN_FUNCTION: &str = "expr_eval_unknown_function";
    /// `eval`: wrong number of arguments.
    pub const EVAL_ARITY: &str = "expr_eval_arity";
    /// `eval`: `regex()` pattern does not compile or is too large.
    pub const EVAL_BAD_REGEX: &str = "expr_eval_bad_regex";
    /// `eval`: `position()`/`last()` without a repeat or predicate context.
    pub const EVAL_NO_POSITION: &str = "expr_eval_no_position";
    /// `eval`: the AST is deeper than the evaluator allows.
    pub const EVAL_TOO_DEEP: &str = "expr_eval_too_deep";
}
