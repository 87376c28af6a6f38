//! Evaluation against a caller-supplied [`Context`].

use std::cmp::Ordering;

use crate::ast::{BinOp, Expr, PathStart, Step};
use crate::value::string_to_number;
use crate::{codes, functions, ExprError, Span, Value};

/// Deepest AST the evaluator walks (parsed ASTs are at most [`crate::MAX_DEPTH`]).
const MAX_EVAL_DEPTH: usize = 2 * crate::MAX_DEPTH;

/// What evaluation needs from the outside world.
pub trait Context {
    /// The value of `${name}` (for a repeat-aware caller: already resolved to
    /// the right instance, or a node-set of all instances).
    fn reference(&self, name: &str) -> Option<Value>;
    /// The current node's value (`.`).
    fn current(&self) -> Value;
    /// Today's date as "YYYY-MM-DD".
    fn today(&self) -> String;
    /// Now as an ISO 8601 date-time string.
    fn now(&self) -> String;
    /// Now as days since 1970-01-01 (fractional).
    fn now_days(&self) -> f64;
    /// 1-based position of the current repeat instance, for position(..).
    fn position(&self) -> Option<usize> {
        None
    }
    /// jr:choice-name(value, '${field}') support: the label of choice `value`
    /// of the list used by `field`.
    fn choice_label(&self, _field: &str, _value: &str) -> Option<String> {
        None
    }
    /// The value of a one-step relative path `name` (no predicates), for contexts that have
    /// one: a choice filter reads the columns of the choice it is testing this way
    /// (`province = ${province}`). `None` keeps such paths unsupported.
    fn child(&self, _name: &str) -> Option<Value> {
        None
    }
}

/// Evaluates `expr`. Errors have codes `expr_eval_…` (see [`crate::codes`]).
pub fn eval(expr: &Expr, ctx: &dyn Context) -> Result<Value, ExprError> {
    Ev { ctx, focus: None }.eval(expr, 0)
}

/// The context node inside a predicate.
struct Focus {
    value: Value,
    position: usize,
    size: usize,
}

pub(crate) struct Ev<'a> {
    pub ctx: &'a dyn Context,
    focus: Option<Focus>,
}

/// The best source span for an expression (for error messages).
pub(crate) fn span_of(e: &Expr) -> Span {
    match e {
        Expr::Literal { span, .. }
        | Expr::Ref { span, .. }
        | Expr::Path { span, .. }
        | Expr::Call { span, .. } => span.0,
        Expr::Number(_) => Span::default(),
        Expr::Neg(inner) => span_of(inner),
        Expr::Filter { base, .. } => span_of(base),
        Expr::Binary { lhs, rhs, .. } => {
            let (a, b) = (span_of(lhs), span_of(rhs));
            Span::new(a.start.min(b.start), a.end.max(b.end))
        }
    }
}

impl Ev<'_> {
    /// The value of `.`: the predicate's node, or the context's current node.
    pub fn current(&self) -> Value {
        match &self.focus {
            Some(f) => f.value.clone(),
            None => self.ctx.current(),
        }
    }

    pub fn position(&self) -> Option<usize> {
        match &self.focus {
            Some(f) => Some(f.position),
            None => self.ctx.position(),
        }
    }

    pub fn size(&self) -> Option<usize> {
        self.focus.as_ref().map(|f| f.size)
    }

    /// Evaluates `e`. Kept small: every branch with locals of its own lives
    /// in a helper, so that nesting costs little stack per level.
    pub fn eval(&self, e: &Expr, depth: usize) -> Result<Value, ExprError> {
        if depth > MAX_EVAL_DEPTH {
            return Err(too_deep(e));
        }
        let d = depth + 1;
        match e {
            Expr::Number(n) => Ok(Value::Number(*n)),
            Expr::Literal { value, .. } => Ok(Value::Str(value.clone())),
            Expr::Ref { name, span } => self.reference(name, span.0),
            Expr::Path { steps, start, span } => self.path(start, steps, span.0),
            Expr::Filter { base, predicates } => self.filter_expr(base, predicates, d),
            Expr::Neg(inner) => self.neg(inner, d),
            Expr::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, d),
            Expr::Call { name, args, span } => functions::call(self, name, args, span.0, d),
        }
    }

    fn reference(&self, name: &str, span: Span) -> Result<Value, ExprError> {
        self.ctx
            .reference(name)
            .ok_or_else(|| ExprError::new(codes::EVAL_UNKNOWN_REFERENCE, span, name))
    }

    fn path(&self, start: &PathStart, steps: &[Step], span: Span) -> Result<Value, ExprError> {
        if matches!(start, PathStart::Relative) && matches!(steps, [Step::Current]) {
            return Ok(self.current());
        }
        if let (
            PathStart::Relative,
            [Step::Node {
                attribute: false,
                name,
                predicates,
            }],
        ) = (start, steps)
        {
            if predicates.is_empty() {
                if let Some(v) = self.ctx.child(name) {
                    return Ok(v);
                }
            }
        }
        Err(ExprError::new(
            codes::EVAL_PATH_UNSUPPORTED,
            span,
            "only . and ${name} can be evaluated, not location paths",
        ))
    }

    fn neg(&self, inner: &Expr, d: usize) -> Result<Value, ExprError> {
        Ok(Value::Number(-self.number(inner, d)?))
    }

    fn filter_expr(&self, base: &Expr, predicates: &[Expr], d: usize) -> Result<Value, ExprError> {
        let mut nodes = nodes_of(self.eval(base, d)?);
        for p in predicates {
            nodes = self.filter(nodes, p, d)?;
        }
        Ok(Value::Nodes(nodes))
    }

    fn filter(&self, nodes: Vec<String>, pred: &Expr, d: usize) -> Result<Vec<String>, ExprError> {
        let size = nodes.len();
        let mut out = Vec::new();
        for (i, node) in nodes.into_iter().enumerate() {
            let inner = Ev {
                ctx: self.ctx,
                focus: Some(Focus {
                    value: Value::Str(node.clone()),
                    position: i + 1,
                    size,
                }),
            };
            let keep = match inner.eval(pred, d)? {
                Value::Number(n) => n == (i + 1) as f64,
                v => v.to_bool(),
            };
            if keep {
                out.push(node);
            }
        }
        Ok(out)
    }

    /// Evaluates as a number; `now()` uses the context's exact `now_days`.
    pub fn number(&self, e: &Expr, d: usize) -> Result<f64, ExprError> {
        if let Expr::Call { name, args, .. } = e {
            if name == "now" && args.is_empty() {
                return Ok(self.ctx.now_days());
            }
        }
        Ok(self.eval(e, d)?.to_number())
    }

    fn binary(&self, op: BinOp, lhs: &Expr, rhs: &Expr, d: usize) -> Result<Value, ExprError> {
        let num = |f: fn(f64, f64) -> f64| -> Result<Value, ExprError> {
            Ok(Value::Number(f(self.number(lhs, d)?, self.number(rhs, d)?)))
        };
        match op {
            BinOp::Or => Ok(Value::Bool(
                self.eval(lhs, d)?.to_bool() || self.eval(rhs, d)?.to_bool(),
            )),
            BinOp::And => Ok(Value::Bool(
                self.eval(lhs, d)?.to_bool() && self.eval(rhs, d)?.to_bool(),
            )),
            BinOp::Add => num(|a, b| a + b),
            BinOp::Sub => num(|a, b| a - b),
            BinOp::Mul => num(|a, b| a * b),
            BinOp::Div => num(|a, b| a / b),
            BinOp::Mod => num(|a, b| a % b),
            BinOp::Union => {
                let mut out = nodes_of(self.eval(lhs, d)?);
                out.extend(nodes_of(self.eval(rhs, d)?));
                Ok(Value::Nodes(out))
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let a = self.eval(lhs, d)?;
                let b = self.eval(rhs, d)?;
                Ok(Value::Bool(compare(op, &a, &b)))
            }
        }
    }
}

fn too_deep(e: &Expr) -> ExprError {
    ExprError::new(
        codes::EVAL_TOO_DEEP,
        span_of(e),
        "expression is nested too deeply to evaluate",
    )
}

/// A value as a node-set (scalars become one node).
pub(crate) fn nodes_of(v: Value) -> Vec<String> {
    match v {
        Value::Nodes(n) => n,
        other => vec![other.to_string_value()],
    }
}

/// XPath 1.0 comparison (§3.4), with lexical ordering of two non-empty
/// strings that are not both numeric (or dates).
pub(crate) fn compare(op: BinOp, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nodes(x), Value::Nodes(y)) => x.iter().any(|s| {
            y.iter()
                .any(|t| compare_scalar(op, &Value::Str(s.clone()), &Value::Str(t.clone())))
        }),
        (Value::Nodes(_), Value::Bool(_)) | (Value::Bool(_), Value::Nodes(_)) => {
            compare_scalar(op, &Value::Bool(a.to_bool()), &Value::Bool(b.to_bool()))
        }
        (Value::Nodes(x), other) => x
            .iter()
            .any(|s| compare_scalar(op, &Value::Str(s.clone()), other)),
        (other, Value::Nodes(y)) => y
            .iter()
            .any(|t| compare_scalar(op, other, &Value::Str(t.clone()))),
        _ => compare_scalar(op, a, b),
    }
}

fn compare_scalar(op: BinOp, a: &Value, b: &Value) -> bool {
    if matches!(op, BinOp::Eq | BinOp::Ne) {
        let equal = match (a, b) {
            (Value::Bool(_), _) | (_, Value::Bool(_)) => a.to_bool() == b.to_bool(),
            (Value::Number(_), _) | (_, Value::Number(_)) => a.to_number() == b.to_number(),
            _ => a.to_string_value() == b.to_string_value(),
        };
        return equal == (op == BinOp::Eq);
    }
    let ord = match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            let (nx, ny) = (string_to_number(x), string_to_number(y));
            if x.is_empty() || y.is_empty() {
                None
            } else if nx.is_nan() || ny.is_nan() {
                Some(x.cmp(y))
            } else {
                nx.partial_cmp(&ny)
            }
        }
        _ => a.to_number().partial_cmp(&b.to_number()),
    };
    match ord {
        None => false,
        Some(o) => match op {
            BinOp::Lt => o == Ordering::Less,
            BinOp::Le => o != Ordering::Greater,
            BinOp::Gt => o == Ordering::Greater,
            _ => o != Ordering::Less,
        },
    }
}
