//! Table-driven parse/print tests on expressions from real XLSForms.

use baraza_expr::{parse, Expr, Span};

/// (source, canonical print)
const GOOD: &[(&str, &str)] = &[
    (". >= 0 and . <= 120", ". >= 0 and . <= 120"),
    ("${age} > 18", "${age} > 18"),
    ("${age}>18", "${age} > 18"),
    ("selected(${q}, 'yes')", "selected(${q}, 'yes')"),
    ("selected( ${q} ,'yes' )", "selected(${q}, 'yes')"),
    (
        "count-selected(${fruits}) >= 2",
        "count-selected(${fruits}) >= 2",
    ),
    ("if(${a} = '', 0, ${a} * 2)", "if(${a} = '', 0, ${a} * 2)"),
    (
        "concat(${first}, ' ', ${last})",
        "concat(${first}, ' ', ${last})",
    ),
    ("regex(., '^[0-9]{9}$')", "regex(., '^[0-9]{9}$')"),
    (
        "jr:choice-name(${prov}, '${prov}')",
        "jr:choice-name(${prov}, '${prov}')",
    ),
    (
        "indexed-repeat(${name}, ${rep}, 1)",
        "indexed-repeat(${name}, ${rep}, 1)",
    ),
    ("/data/g/x", "/data/g/x"),
    ("../x", "../x"),
    ("current()/../x", "current()/../x"),
    ("position(..)", "position(..)"),
    ("sum(${rep_total})", "sum(${rep_total})"),
    (
        "today() - date(${dob}) < 365",
        "today() - date(${dob}) < 365",
    ),
    ("string-length(.) = 10", "string-length(.) = 10"),
    ("-3 * -x", "-3 * -x"),
    ("a-b", "a-b"),
    ("a - b", "a - b"),
    ("a -b", "a - b"),
    ("${a}-1", "${a} - 1"),
    ("1 div 2 mod 3", "1 div 2 mod 3"),
    ("1 div (2 mod 3)", "1 div (2 mod 3)"),
    (
        "not(${x} = 'a' or ${y} != 'b')",
        "not(${x} = 'a' or ${y} != 'b')",
    ),
    ("${x}[. > 3]", "${x}[. > 3]"),
    ("(1 + 2) * 3", "(1 + 2) * 3"),
    ("((1))", "1"),
    ("1 - (2 - 3)", "1 - (2 - 3)"),
    ("(1 - 2) - 3", "1 - 2 - 3"),
    ("--1", "--1"),
    ("-(1 + 2)", "-(1 + 2)"),
    (".5 + 3.14 + 3. + 007", "0.5 + 3.14 + 3 + 7"),
    ("\"it's\"", "\"it's\""),
    ("'say \"hi\"'", "'say \"hi\"'"),
    ("/data/rep[position() = 1]/x", "/data/rep[position() = 1]/x"),
    ("/data/div", "/data/div"),
    ("div/mod", "div/mod"),
    ("div/x div div/y", "div/x div div/y"),
    ("/div div ../mod", "/div div ../mod"),
    ("* * *", "* * *"),
    ("@id", "@id"),
    ("/data/@jr:version", "/data/@jr:version"),
    ("jr:*", "jr:*"),
    ("//item", "//item"),
    ("a//b", "a//b"),
    ("/", "/"),
    ("/ = /", "(/) = (/)"),
    ("a | b | c", "a | b | c"),
    ("-a | b", "-a | b"),
    ("(-a) | b", "(-a) | b"),
    (
        "instance('list')/root/item[name = ${x}]/label",
        "instance('list')/root/item[name = ${x}]/label",
    ),
    ("(a | b)/c", "(a | b)/c"),
    ("(a/b)/c", "(a/b)/c"),
    ("${x}/y", "${x}/y"),
    ("'a'[1][2]", "'a'[1][2]"),
    ("(${x}[1])[2]", "(${x}[1])[2]"),
    ("${a.b-c_d}", "${a.b-c_d}"),
    ("${ñame}", "${ñame}"),
    (
        "${a}=1 or ${b}<=2 and ${c}>=3",
        "${a} = 1 or ${b} <= 2 and ${c} >= 3",
    ),
    (
        "(${a}=1 or ${b}<=2) and ${c}>=3",
        "(${a} = 1 or ${b} <= 2) and ${c} >= 3",
    ),
    ("1 = 2 = 3", "1 = 2 = 3"),
    ("1 = (2 = 3)", "1 = (2 = 3)"),
    ("1 < 2 = 2 > 1", "1 < 2 = 2 > 1"),
    (
        "format-date(today(), '%Y-%m-%d')",
        "format-date(today(), '%Y-%m-%d')",
    ),
    ("concat()", "concat()"),
    ("f (1)", "f(1)"),
];

#[test]
fn good_expressions_parse_and_print_canonically() {
    for (src, want) in GOOD {
        let e = parse(src).unwrap_or_else(|err| panic!("{src:?} failed: {err}"));
        assert_eq!(e.to_string(), *want, "printing {src:?}");
        let again = parse(want).unwrap_or_else(|err| panic!("reparse {want:?}: {err}"));
        assert_eq!(again, e, "round trip of {src:?}");
        assert_eq!(again.to_string(), *want);
    }
}

/// (source, code, span start, span end, detail or "" to skip)
const BAD: &[(&str, &str, usize, usize, &str)] = &[
    ("${", "expr_bad_reference", 0, 2, ""),
    ("${}", "expr_bad_reference", 0, 3, ""),
    ("${a b}", "expr_bad_reference", 0, 6, ""),
    ("${1a}", "expr_bad_reference", 0, 5, ""),
    ("1 + ${abc", "expr_bad_reference", 4, 9, ""),
    ("(1 + 2", "expr_unclosed_paren", 0, 1, ""),
    ("'abc", "expr_unclosed_string", 0, 4, ""),
    ("x = \"abc", "expr_unclosed_string", 4, 8, ""),
    ("1 +", "expr_syntax", 3, 3, "end of expression"),
    ("and", "expr_syntax", 0, 3, "and"),
    ("div = 1", "expr_syntax", 0, 3, "div"),
    ("f(", "expr_unclosed_paren", 1, 2, ""),
    ("f(1, 2", "expr_unclosed_paren", 1, 2, ""),
    (")", "expr_syntax", 0, 1, ")"),
    ("1 2", "expr_syntax", 2, 3, "2"),
    ("", "expr_empty", 0, 0, ""),
    ("   \t\n", "expr_empty", 0, 5, ""),
    ("1 # 2", "expr_syntax", 2, 3, "#"),
    ("$x", "expr_syntax", 0, 1, "$"),
    ("a[1", "expr_syntax", 3, 3, "end of expression"),
    ("f(1,)", "expr_syntax", 4, 5, ")"),
    ("1 + * 2", "expr_syntax", 6, 7, "2"),
    ("a/", "expr_syntax", 2, 2, "end of expression"),
    ("a/f(1)", "expr_syntax", 3, 4, "("),
    ("1 2 'abc", "expr_syntax", 2, 3, "2"),
    ("!", "expr_syntax", 0, 1, "!"),
];

#[test]
fn bad_expressions_report_code_and_span() {
    for (src, code, start, end, detail) in BAD {
        let err = parse(src).expect_err(src);
        assert_eq!(err.code, *code, "code for {src:?}: {err}");
        assert_eq!(
            err.span,
            Span {
                start: *start,
                end: *end
            },
            "span for {src:?}: {err}"
        );
        if !detail.is_empty() {
            assert_eq!(err.detail, *detail, "detail for {src:?}");
        }
    }
}

#[test]
fn limits() {
    let long = "1".repeat(100_001);
    assert_eq!(parse(&long).unwrap_err().code, "expr_too_long");
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert_eq!(parse(&deep).unwrap_err().code, "expr_too_deep");
    let minus = "-".repeat(50_000) + "1";
    assert_eq!(parse(&minus).unwrap_err().code, "expr_too_deep");
    let chain = vec!["1"; 20_000].join(" + ");
    assert_eq!(parse(&chain).unwrap_err().code, "expr_too_deep");
    let calls = format!("{}1{}", "abs(".repeat(300), ")".repeat(300));
    assert_eq!(parse(&calls).unwrap_err().code, "expr_too_deep");
    let preds = format!("a{}", "[b".repeat(300) + &"]".repeat(300));
    assert_eq!(parse(&preds).unwrap_err().code, "expr_too_deep");
    let ok = format!("{}1{}", "(".repeat(64), ")".repeat(64));
    assert!(parse(&ok).is_ok());
    let too_many = format!("{}1{}", "(".repeat(65), ")".repeat(65));
    assert_eq!(parse(&too_many).unwrap_err().code, "expr_too_deep");
    let ok_chain = vec!["1"; 200].join(" + ");
    assert!(parse(&ok_chain).is_ok());
}

#[test]
fn references_in_source_order_with_spans() {
    let src = "if(${a} = '', ${b}, concat(${a}, '${c} x'))";
    let e = parse(src).unwrap();
    let refs = e.references();
    let names: Vec<&str> = refs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b", "a", "c"]);
    for (name, span) in &refs {
        assert_eq!(&src[span.start..span.end], format!("${{{name}}}"));
    }
}

#[test]
fn to_xpath_resolves_references() {
    let e = parse("jr:choice-name(${prov}, '${prov}') != '' and ${x}-1 > ../y").unwrap();
    let out = e.to_xpath(&|n: &str| format!("/data/g/{n}"));
    assert_eq!(
        out,
        "jr:choice-name(/data/g/prov, '/data/g/prov') != '' and /data/g/x - 1 > ../y"
    );
    assert_eq!(
        parse("${a}[1]")
            .unwrap()
            .to_xpath(&|n: &str| format!("../{n}")),
        "../a[1]"
    );
}

#[test]
fn functions_listed_in_order() {
    let e = parse("if(today() > ${d}, now(), concat(today(), 'x'))").unwrap();
    assert_eq!(e.functions(), ["if", "today", "now", "concat", "today"]);
    assert!(parse("1 + 2").unwrap().functions().is_empty());
}

#[test]
fn check_reports_all_problems() {
    let e = parse("foo(1)").unwrap();
    let errs = e.check();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "expr_unknown_function");
    assert_eq!(errs[0].detail, "foo");
    assert_eq!(errs[0].span, Span { start: 0, end: 6 });

    let errs = parse("if(1,2)").unwrap().check();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "expr_arity");
    assert_eq!(errs[0].detail, "if expects 3 arguments, got 2");

    let errs = parse("substr(bar(if(1, 2))) + min() + not(1, 2)")
        .unwrap()
        .check();
    let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.code, e.detail.as_str())).collect();
    assert_eq!(
        got,
        [
            ("expr_arity", "substr expects 2..3 arguments, got 1"),
            ("expr_unknown_function", "bar"),
            ("expr_arity", "if expects 3 arguments, got 2"),
            ("expr_arity", "min expects 1 or more arguments, got 0"),
            ("expr_arity", "not expects 1 argument, got 2"),
        ]
    );

    for ok in [
        "uuid()",
        "random()",
        "digest(${x}, 'SHA-256')",
        "area(${shape})",
        "distance(${trace})",
        "jr:itext('x')",
        "base64-decode(.)",
        "checklist(-1, 2, ${a}, ${b})",
        "weighted-checklist(-1, 2, ${a}, 1, ${b}, 2)",
        "join(' ', ${a}, ${b})",
        "concat()",
        "position(..) + last()",
        "pulldata('f', 'c', 'k', ${v})",
    ] {
        assert!(parse(ok).unwrap().check().is_empty(), "{ok}");
    }
}

#[test]
fn ast_shape() {
    use baraza_expr::BinOp;
    let e = parse("1 - 2 * 3").unwrap();
    let Expr::Binary { op, rhs, .. } = e else {
        panic!("not binary")
    };
    assert_eq!(op, BinOp::Sub);
    assert!(matches!(*rhs, Expr::Binary { op: BinOp::Mul, .. }));
}

#[test]
fn display_of_error() {
    let err = parse("1 +").unwrap_err();
    assert_eq!(err.to_string(), "expr_syntax at 3..3: end of expression");
}
