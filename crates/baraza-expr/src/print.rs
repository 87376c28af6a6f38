//! Canonical printing: `Display` (XLSForm source) and `to_xpath`.

use std::fmt;

use crate::ast::{refs_in_literal, Expr, PathStart, Step, PREC_PRIMARY, PREC_UNARY};

type Resolve<'a> = Option<&'a dyn Fn(&str) -> String>;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&print_top(self, None))
    }
}

impl Expr {
    /// Prints the expression as XPath, with each `${name}` (also inside string
    /// literals, as pyxform does) replaced by `resolve(name)`, e.g.
    /// `/data/group/name` or `../name`. Everything else is printed as by
    /// `Display`.
    pub fn to_xpath(&self, resolve: &dyn Fn(&str) -> String) -> String {
        print_top(self, Some(resolve))
    }
}

fn print_top(e: &Expr, resolve: Resolve<'_>) -> String {
    // A bare `/` is only safe unparenthesised when it is the whole expression.
    if let Expr::Path {
        start: PathStart::Root,
        steps,
        ..
    } = e
    {
        if steps.is_empty() {
            return "/".to_string();
        }
    }
    let mut out = String::new();
    write_expr(&mut out, e, resolve);
    out
}

fn write_expr(out: &mut String, e: &Expr, r: Resolve<'_>) {
    match e {
        Expr::Number(n) => write_number_literal(out, *n),
        Expr::Literal { value, .. } => match r {
            Some(resolve) => write_string(out, &substitute_refs(value, resolve)),
            None => write_string(out, value),
        },
        Expr::Ref { name, .. } => match r {
            Some(resolve) => out.push_str(&resolve(name)),
            None => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
        },
        Expr::Path { start, steps, .. } => {
            match start {
                PathStart::Root => {
                    if steps.is_empty() {
                        out.push_str("(/)");
                        return;
                    }
                    out.push('/');
                }
                PathStart::Relative => {}
                PathStart::Expr(base) => {
                    write_filter_base(out, base, r);
                    out.push('/');
                }
            }
            for (i, step) in steps.iter().enumerate() {
                if i > 0 {
                    out.push('/');
                }
                write_step(out, step, r);
            }
        }
        Expr::Filter { base, predicates } => {
            write_filter_base(out, base, r);
            write_predicates(out, predicates, r);
        }
        Expr::Neg(inner) => {
            out.push('-');
            write_operand(out, inner, inner.precedence() < PREC_UNARY, r);
        }
        Expr::Binary { op, lhs, rhs } => {
            let p = op.precedence();
            write_operand(out, lhs, lhs.precedence() < p, r);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_operand(out, rhs, rhs.precedence() <= p, r);
        }
        Expr::Call { name, args, .. } => {
            out.push_str(name);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a, r);
            }
            out.push(')');
        }
    }
}

fn write_operand(out: &mut String, e: &Expr, parens: bool, r: Resolve<'_>) {
    if parens {
        out.push('(');
        write_expr(out, e, r);
        out.push(')');
    } else {
        write_expr(out, e, r);
    }
}

/// The base of a filter expression or of a path must be a primary expression.
fn write_filter_base(out: &mut String, base: &Expr, r: Resolve<'_>) {
    let primary = matches!(
        base,
        Expr::Number(_) | Expr::Literal { .. } | Expr::Ref { .. } | Expr::Call { .. }
    ) && base.precedence() == PREC_PRIMARY;
    write_operand(out, base, !primary, r);
}

fn write_step(out: &mut String, step: &Step, r: Resolve<'_>) {
    match step {
        Step::Current => out.push('.'),
        Step::Parent => out.push_str(".."),
        Step::DescendantOrSelf => {}
        Step::Node {
            attribute,
            name,
            predicates,
        } => {
            if *attribute {
                out.push('@');
            }
            out.push_str(name);
            write_predicates(out, predicates, r);
        }
    }
}

fn write_predicates(out: &mut String, predicates: &[Expr], r: Resolve<'_>) {
    for p in predicates {
        out.push('[');
        write_expr(out, p, r);
        out.push(']');
    }
}

fn write_number_literal(out: &mut String, n: f64) {
    if n.is_nan() {
        out.push_str("(0 div 0)");
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "(1 div 0)" } else { "(-1 div 0)" });
    } else if n < 0.0 {
        out.push_str("(-");
        out.push_str(&format!("{}", -n));
        out.push(')');
    } else if n == 0.0 {
        out.push('0');
    } else {
        // Rust's Display for f64 is shortest round-trip and never uses an exponent.
        out.push_str(&format!("{n}"));
    }
}

/// Quotes with `'` unless the text contains one; text with both quote kinds
/// (which XPath 1.0 cannot write as one literal) becomes a `concat(…)`.
fn write_string(out: &mut String, s: &str) {
    if !s.contains('\'') {
        out.push('\'');
        out.push_str(s);
        out.push('\'');
    } else if !s.contains('"') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str("concat(");
        let mut first = true;
        for (i, part) in s.split('\'').enumerate() {
            if i > 0 {
                if !first {
                    out.push_str(", ");
                }
                out.push_str("\"'\"");
                first = false;
            }
            if !part.is_empty() {
                if !first {
                    out.push_str(", ");
                }
                write_string(out, part);
                first = false;
            }
        }
        out.push(')');
    }
}

fn substitute_refs(s: &str, resolve: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (name, start, end) in refs_in_literal(s) {
        out.push_str(&s[last..start]);
        out.push_str(&resolve(&name));
        last = end;
    }
    out.push_str(&s[last..]);
    out
}
