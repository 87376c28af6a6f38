//! Property tests: print/parse round trip, agreement with a reference
//! evaluator, and no panics on arbitrary input.

use baraza_expr::{eval, parse, BinOp, Context, Expr, PathStart, Pos, Step, Value};
use proptest::prelude::*;

const OPS: [BinOp; 14] = [
    BinOp::Or,
    BinOp::And,
    BinOp::Eq,
    BinOp::Ne,
    BinOp::Lt,
    BinOp::Le,
    BinOp::Gt,
    BinOp::Ge,
    BinOp::Add,
    BinOp::Sub,
    BinOp::Mul,
    BinOp::Div,
    BinOp::Mod,
    BinOp::Union,
];

const FUNCS: [&str; 10] = [
    "if",
    "concat",
    "selected",
    "count-selected",
    "jr:choice-name",
    "round",
    "today",
    "not",
    "string-length",
    "format-date",
];

fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_.-]{0,5}".prop_filter("operator word", |n| {
        !matches!(n.as_str(), "and" | "or" | "div" | "mod")
    })
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..1000).prop_map(f64::from),
        (0u64..10_000_000).prop_map(|n| n as f64 / 1000.0),
        (0.0f64..1e20),
    ]
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z '${}%-]{0,8}", "[a-z \"]{0,5}"]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        number().prop_map(Expr::Number),
        literal().prop_map(|value| Expr::Literal {
            value,
            span: Pos::default()
        }),
        name().prop_map(|name| Expr::Ref {
            name,
            span: Pos::default()
        }),
        Just(path(PathStart::Relative, vec![Step::Current])),
        Just(path(PathStart::Relative, vec![Step::Parent])),
        Just(path(PathStart::Root, vec![])),
        (
            prop::collection::vec(name(), 1..4),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(names, absolute, attr)| {
                let n = names.len();
                let steps = names
                    .into_iter()
                    .enumerate()
                    .map(|(i, name)| Step::Node {
                        attribute: attr && i + 1 == n,
                        name,
                        predicates: vec![],
                    })
                    .collect();
                let start = if absolute {
                    PathStart::Root
                } else {
                    PathStart::Relative
                };
                path(start, steps)
            }),
        name().prop_map(|n| path(
            PathStart::Expr(Box::new(call("current", vec![]))),
            vec![Step::Parent, node(&n, vec![])]
        )),
        name().prop_map(|n| path(
            PathStart::Root,
            vec![Step::DescendantOrSelf, node(&n, vec![])]
        )),
    ]
}

fn path(start: PathStart, steps: Vec<Step>) -> Expr {
    Expr::Path {
        start,
        steps,
        span: Pos::default(),
    }
}

fn node(name: &str, predicates: Vec<Expr>) -> Step {
    Step::Node {
        attribute: false,
        name: name.to_string(),
        predicates,
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        name: name.to_string(),
        args,
        span: Pos::default(),
    }
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
            (0..OPS.len(), inner.clone(), inner.clone()).prop_map(|(i, l, r)| Expr::Binary {
                op: OPS[i],
                lhs: Box::new(l),
                rhs: Box::new(r),
            }),
            (0..FUNCS.len(), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(i, args)| call(FUNCS[i], args)),
            (inner.clone(), prop::collection::vec(inner.clone(), 1..3)).prop_map(
                |(base, predicates)| Expr::Filter {
                    base: Box::new(base),
                    predicates
                }
            ),
            (name(), inner.clone(), inner.clone()).prop_map(|(n, p, q)| path(
                PathStart::Root,
                vec![node("data", vec![p]), node(&n, vec![q])]
            )),
            (inner.clone(), name()).prop_map(|(base, n)| path(
                PathStart::Expr(Box::new(base)),
                vec![Step::DescendantOrSelf, node(&n, vec![])]
            )),
        ]
    })
}

/// Numeric/boolean expressions for the reference evaluator.
fn arith() -> impl Strategy<Value = Expr> {
    let lit = prop_oneof![
        (0u32..20).prop_map(f64::from),
        (0u32..2000).prop_map(|n| f64::from(n) / 8.0),
    ]
    .prop_map(Expr::Number);
    lit.prop_recursive(6, 64, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
            (0..13usize, inner.clone(), inner.clone()).prop_map(|(i, l, r)| Expr::Binary {
                op: OPS[i],
                lhs: Box::new(l),
                rhs: Box::new(r),
            }),
            inner.clone().prop_map(|e| call("not", vec![e])),
        ]
    })
}

#[derive(Debug, Clone, Copy)]
enum R {
    N(f64),
    B(bool),
}

impl R {
    fn num(self) -> f64 {
        match self {
            R::N(n) => n,
            R::B(b) => f64::from(u8::from(b)),
        }
    }
    fn bool(self) -> bool {
        match self {
            R::N(n) => n != 0.0 && !n.is_nan(),
            R::B(b) => b,
        }
    }
}

/// A straightforward XPath evaluator over numbers and booleans.
fn reference(e: &Expr) -> R {
    match e {
        Expr::Number(n) => R::N(*n),
        Expr::Neg(x) => R::N(-reference(x).num()),
        Expr::Call { args, .. } => R::B(!reference(&args[0]).bool()),
        Expr::Binary { op, lhs, rhs } => {
            let (a, b) = (reference(lhs), reference(rhs));
            match op {
                BinOp::Or => R::B(a.bool() || b.bool()),
                BinOp::And => R::B(a.bool() && b.bool()),
                BinOp::Add => R::N(a.num() + b.num()),
                BinOp::Sub => R::N(a.num() - b.num()),
                BinOp::Mul => R::N(a.num() * b.num()),
                BinOp::Div => R::N(a.num() / b.num()),
                BinOp::Mod => R::N(a.num() % b.num()),
                BinOp::Eq | BinOp::Ne => {
                    let eq = match (a, b) {
                        (R::B(_), _) | (_, R::B(_)) => a.bool() == b.bool(),
                        _ => a.num() == b.num(),
                    };
                    R::B(eq == (*op == BinOp::Eq))
                }
                BinOp::Lt => R::B(a.num() < b.num()),
                BinOp::Le => R::B(a.num() <= b.num()),
                BinOp::Gt => R::B(a.num() > b.num()),
                BinOp::Ge => R::B(a.num() >= b.num()),
                BinOp::Union => unreachable!("not generated"),
            }
        }
        other => unreachable!("not generated: {other:?}"),
    }
}

struct AnyCtx;

impl Context for AnyCtx {
    fn reference(&self, name: &str) -> Option<Value> {
        match name.len() % 4 {
            0 => None,
            1 => Some(Value::Str(name.to_string())),
            2 => Some(Value::Number(name.len() as f64)),
            _ => Some(Value::Nodes(vec![name.to_string(), String::new()])),
        }
    }
    fn current(&self) -> Value {
        Value::Str("12".into())
    }
    fn today(&self) -> String {
        "2026-01-31".into()
    }
    fn now(&self) -> String {
        "2026-01-31T12:00:00.000Z".into()
    }
    fn now_days(&self) -> f64 {
        20_484.5
    }
    fn position(&self) -> Option<usize> {
        Some(2)
    }
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    "/",
    "//",
    ".",
    "..",
    "@",
    "|",
    "+",
    "-",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "*",
    "and",
    "or",
    "div",
    "mod",
    " ",
    "1",
    "2.5",
    ".5",
    "'a'",
    "\"b\"",
    "'",
    "\"",
    "${x}",
    "${",
    "}",
    "$",
    "a",
    "b-c",
    "jr:x",
    "jr:*",
    "if(",
    "concat(",
    "regex(",
    "round(",
    "format-date(",
    "selected(",
    "today()",
    "now()",
    "current()",
    "position(",
    "substr(",
    "date(",
    "'%Y %b %a'",
    "'2026-01-31'",
    "'[a-'",
    "0 div 0",
    "translate(",
    "ñ",
    "\u{0}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(0..TOKENS.len(), 0..40)
        .prop_map(|ix| ix.into_iter().map(|i| TOKENS[i]).collect::<String>())
}

fn exercise(src: &str) {
    if let Ok(e) = parse(src) {
        let _ = e.check();
        let _ = e.references();
        let _ = e.functions();
        let _ = e.to_xpath(&|n: &str| format!("/data/{n}"));
        let _ = eval(&e, &AnyCtx);
        let printed = e.to_string();
        let again = parse(&printed).expect("printed form parses");
        assert_eq!(again, e);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn print_parse_round_trip(e in expr()) {
        let printed = e.to_string();
        let parsed = parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed:?}: {parsed:?}");
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &e, "{}", printed);
        prop_assert_eq!(parsed.to_string(), printed);
        // to_xpath with the identity resolution prints the same text,
        // except that ${} inside literals are resolved too.
        let xp = e.to_xpath(&|n: &str| format!("${{{n}}}"));
        prop_assert_eq!(xp, e.to_string());
    }

    #[test]
    fn arithmetic_agrees_with_reference(e in arith()) {
        let printed = e.to_string();
        let parsed = parse(&printed).unwrap();
        let got = eval(&parsed, &AnyCtx).unwrap();
        match reference(&e) {
            R::N(want) => {
                let got = got.to_number();
                prop_assert!(got == want || (got.is_nan() && want.is_nan()),
                    "{printed}: got {got}, want {want}");
            }
            R::B(want) => prop_assert_eq!(got, Value::Bool(want), "{}", printed),
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,200}") {
        exercise(&s);
    }

    #[test]
    fn token_soup_never_panics(s in token_soup()) {
        exercise(&s);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn errors_point_into_the_source(s in token_soup()) {
        if let Err(err) = parse(&s) {
            prop_assert!(err.span.start <= err.span.end && err.span.end <= s.len());
            prop_assert!(s.is_char_boundary(err.span.start) && s.is_char_boundary(err.span.end));
        }
    }
}
