//! The AST, and the read-only walks over it (`references`, `check`, `functions`).

use crate::functions::function_arity;
use crate::{codes, ExprError, Span};

/// A source position stored in the AST.
///
/// It compares equal to every other `Pos`, so that two ASTs are equal when
/// their structure is, whatever text they were parsed from (the printed form
/// of a parsed expression has other spans than its source).
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Pos(pub Span);

impl PartialEq for Pos {
    fn eq(&self, _other: &Pos) -> bool {
        true
    }
}

impl Pos {
    pub fn new(start: usize, end: usize) -> Pos {
        Pos(Span { start, end })
    }
}

/// Binary operators, including union `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Union,
}

/// Precedence levels, loosest first. Unary minus sits between `*` and `|`.
pub(crate) const PREC_UNARY: u8 = 7;
pub(crate) const PREC_PRIMARY: u8 = 9;

impl BinOp {
    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
            BinOp::Union => 8,
        }
    }

    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
            BinOp::Union => "|",
        }
    }
}

/// Where a location path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStart {
    /// `/…`: the document root.
    Root,
    /// `a/b`, `../x`, `.`: the context node.
    Relative,
    /// `current()/../x`, `${x}/y`, `(e)/z`: the result of a filter expression.
    Expr(Box<Expr>),
}

/// One step of a location path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.`
    Current,
    /// `..`
    Parent,
    /// The empty step between the slashes of `//`.
    DescendantOrSelf,
    /// A name test (`name`, `jr:name`, `*`, `jr:*`), on the attribute axis
    /// when `attribute` (`@name`), with its predicates.
    Node {
        attribute: bool,
        name: String,
        predicates: Vec<Expr>,
    },
}

/// An XLSForm expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal (never negative, never NaN when parsed).
    Number(f64),
    /// A string literal; `span` covers the quotes.
    Literal { value: String, span: Pos },
    /// `${name}`.
    Ref { name: String, span: Pos },
    /// A location path.
    Path {
        start: PathStart,
        steps: Vec<Step>,
        span: Pos,
    },
    /// A primary expression with predicates: `${x}[. > 3]`.
    Filter {
        base: Box<Expr>,
        predicates: Vec<Expr>,
    },
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// A function call; `span` covers the name through the closing `)`.
    Call {
        name: String,
        args: Vec<Expr>,
        span: Pos,
    },
}

impl Expr {
    /// Every `${name}` reference, in source order, with its span (duplicates
    /// kept). References written inside string literals (as in
    /// `jr:choice-name(${p}, '${p}')`) are included, as pyxform resolves them.
    pub fn references(&self) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        self.walk(&mut |e| match e {
            Expr::Ref { name, span } => out.push((name.clone(), span.0)),
            Expr::Literal { value, span } => {
                // Content starts one byte (the quote) after the literal.
                let base = span.0.start + 1;
                for (name, start, end) in refs_in_literal(value) {
                    out.push((name, Span::new(base + start, base + end)));
                }
            }
            _ => {}
        });
        out
    }

    /// Semantic checks against the function table: unknown functions
    /// (`expr_unknown_function`, detail = the name) and wrong argument counts
    /// (`expr_arity`). All problems are returned, in source order.
    pub fn check(&self) -> Vec<ExprError> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Call { name, args, span } = e {
                if let Some(problem) = arity_problem(name, args.len(), span.0, false) {
                    out.push(problem);
                }
            }
        });
        out
    }

    /// The names of the functions called, in source order (duplicates kept).
    pub fn functions(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Call { name, .. } = e {
                out.push(name.clone());
            }
        });
        out
    }

    /// Pre-order walk in source order.
    fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Number(_) | Expr::Literal { .. } | Expr::Ref { .. } => {}
            Expr::Path { start, steps, .. } => {
                if let PathStart::Expr(e) = start {
                    e.walk(f);
                }
                for step in steps {
                    if let Step::Node { predicates, .. } = step {
                        for p in predicates {
                            p.walk(f);
                        }
                    }
                }
            }
            Expr::Filter { base, predicates } => {
                base.walk(f);
                for p in predicates {
                    p.walk(f);
                }
            }
            Expr::Neg(e) => e.walk(f),
            Expr::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            Expr::Call { args, .. } => {
                for a in args {
                    a.walk(f);
                }
            }
        }
    }

    /// Binding strength of the expression's top operator (for printing).
    pub(crate) fn precedence(&self) -> u8 {
        match self {
            Expr::Binary { op, .. } => op.precedence(),
            Expr::Neg(_) => crate::ast::PREC_UNARY,
            _ => PREC_PRIMARY,
        }
    }
}

/// The problem with calling `name` with `got` arguments, if any.
pub(crate) fn arity_problem(name: &str, got: usize, span: Span, eval: bool) -> Option<ExprError> {
    let (unknown, arity) = if eval {
        (codes::EVAL_UNKNOWN_FUNCTION, codes::EVAL_ARITY)
    } else {
        (codes::UNKNOWN_FUNCTION, codes::ARITY)
    };
    let Some((min, max)) = function_arity(name) else {
        return Some(ExprError::new(unknown, span, name));
    };
    let ok = got >= min && max.is_none_or(|m| got <= m);
    if ok {
        return None;
    }
    let expects = match max {
        Some(m) if m == min => format!("{min}"),
        Some(m) => format!("{min}..{m}"),
        None => format!("{min} or more"),
    };
    let plural = if expects == "1" {
        "argument"
    } else {
        "arguments"
    };
    Some(ExprError::new(
        arity,
        span,
        format!("{name} expects {expects} {plural}, got {got}"),
    ))
}

/// `${name}` occurrences inside a literal's text: (name, start, end) in bytes.
pub(crate) fn refs_in_literal(s: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = s[from..].find("${") {
        let start = from + i;
        let body = start + 2;
        match s[body..].find('}') {
            Some(j) => {
                let name = &s[body..body + j];
                if crate::lexer::is_valid_name(name) {
                    out.push((name.to_string(), start, body + j + 1));
                    from = body + j + 1;
                } else {
                    from = body;
                }
            }
            None => break,
        }
    }
    out
}
