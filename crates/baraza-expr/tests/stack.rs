//! Stack use at the nesting limits.

use baraza_expr::*;
struct C;
impl Context for C {
    fn reference(&self, _: &str) -> Option<Value> {
        Some(Value::Number(1.0))
    }
    fn current(&self) -> Value {
        Value::Number(1.0)
    }
    fn today(&self) -> String {
        "2026-01-01".into()
    }
    fn now(&self) -> String {
        "2026-01-01T00:00:00Z".into()
    }
    fn now_days(&self) -> f64 {
        0.0
    }
}
fn run(kb: usize) {
    std::thread::Builder::new()
        .stack_size(kb * 1024)
        .spawn(|| {
            let mut cases = vec![
                format!("{}1{}", "(".repeat(64), ")".repeat(64)),
                format!("{}1{}", "abs(".repeat(64), ")".repeat(64)),
                format!("${{x}}{}", "[1".repeat(64) + &"]".repeat(64)),
                vec!["${x}"; 200].join(" + "),
                format!("{}1", "-".repeat(199)),
            ];
            let mut s = String::from("1");
            for _ in 0..63 {
                s = format!("abs(1 - -{s})");
            }
            cases.push(s);
            let mut s = String::from("1");
            for _ in 0..63 {
                s = format!("1 - ({s})");
            }
            cases.push(s);
            for c in &cases {
                let e = parse(c).unwrap();
                let _ = eval(&e, &C);
                let p = e.to_string();
                let e2 = parse(&p).unwrap();
                assert_eq!(e, e2.clone());
                let _ = format!("{e2:?}");
                let _ = e.check();
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
/// The deepest inputs the parser accepts parse, print, compare, check and
/// evaluate within 1 MiB of stack (half a test thread's) even in debug builds.
#[test]
fn deepest_accepted_inputs_fit_in_1m_of_stack() {
    run(1024);
}
