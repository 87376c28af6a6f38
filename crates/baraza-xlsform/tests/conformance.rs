//! The conformance suite: every case under `tests/conformance/cases/` is compiled and compared
//! with what pyxform, the reference implementation, produced for it (`tools/conformance/oracle.py`
//! made the goldens; it is never called here).
//!
//! * `# expect: ok` cases pass when our XForm and pyxform's have the same structure: the same
//!   elements in the same order with the same attributes and texts, whitespace collapsed, binds
//!   and itext entries compared as sets (their order carries no meaning).
//! * `# expect: error:a,b` cases pass when the compiler refuses the form with at least those
//!   codes; `# warnings:` lists warnings that must be present.
//!
//! The pass rate is printed. It may only go up: the test fails when it falls below the floor
//! recorded in `tests/conformance/floor.txt`.

mod common;

use common::canonical;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

struct Case {
    path: PathBuf,
    name: String,
    expect: Vec<String>,
    warnings: Vec<String>,
    md: String,
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "md"));
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read case");
            let mut expect = vec!["ok".to_owned()];
            let mut warnings = Vec::new();
            let mut md = String::new();
            for line in text.lines() {
                if let Some(h) = line.strip_prefix('#') {
                    if let Some((k, v)) = h.split_once(':') {
                        let list: Vec<String> = v
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect();
                        match k.trim() {
                            "expect" => {
                                expect = if v.trim() == "ok" {
                                    vec!["ok".into()]
                                } else {
                                    v.trim()
                                        .trim_start_matches("error:")
                                        .split(',')
                                        .map(|s| s.trim().to_owned())
                                        .filter(|s| !s.is_empty())
                                        .collect()
                                }
                            }
                            "warnings" => warnings = list,
                            _ => {}
                        }
                    }
                } else {
                    md.push_str(line);
                    md.push('\n');
                }
            }
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            Case {
                path,
                name,
                expect,
                warnings,
                md,
            }
        })
        .collect()
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!(
                "line {}: ours {:?}\n      pyxform {:?}",
                i + 1,
                x.trim(),
                y.trim()
            );
        }
    }
    format!(
        "lengths differ: ours {} lines, pyxform {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn conformance_suite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let cases = load_cases(&root.join("cases"));
    assert!(
        !cases.is_empty(),
        "no conformance cases in {}",
        root.display()
    );
    let mut passed = 0usize;
    let mut failures: Vec<String> = Vec::new();
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for case in &cases {
        let compiled =
            baraza_xlsform::compile(case.md.as_bytes(), baraza_xlsform::Format::Markdown, "data");
        let codes: Vec<&str> = compiled.errors().map(|d| d.code).collect();
        let warnings: Vec<&str> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.severity == baraza_xlsform::Severity::Warning)
            .map(|d| d.code)
            .collect();
        let kind = if case.expect == ["ok"] { "ok" } else { "error" };
        let result: Result<(), String> = if kind == "ok" {
            let golden = case.path.with_extension("xml");
            match (compiled.xform.as_deref(), std::fs::read_to_string(&golden)) {
                (None, _) => Err(format!(
                    "refused: {}",
                    compiled
                        .errors()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
                (_, Err(_)) => Err(format!("no golden {}", golden.display())),
                (Some(ours), Ok(theirs)) => match (canonical(ours), canonical(&theirs)) {
                    (Ok(a), Ok(b)) if a == b => Ok(()),
                    (Ok(a), Ok(b)) => Err(first_difference(&a, &b)),
                    (Err(e), _) => Err(format!("our XML does not parse: {e}")),
                    (_, Err(e)) => Err(format!("golden does not parse: {e}")),
                },
            }
        } else {
            let missing: Vec<&String> = case
                .expect
                .iter()
                .filter(|c| !codes.contains(&c.as_str()))
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("expected {:?}, got {:?}", case.expect, codes))
            }
        };
        let result = result.and_then(|()| {
            let missing: Vec<&String> = case
                .warnings
                .iter()
                .filter(|w| !warnings.contains(&w.as_str()))
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "expected warnings {:?}, got {:?}",
                    case.warnings, warnings
                ))
            }
        });
        let entry = by_kind.entry(kind).or_default();
        entry.1 += 1;
        match result {
            Ok(()) => {
                passed += 1;
                entry.0 += 1;
            }
            Err(e) => failures.push(format!("{}: {e}", case.name)),
        }
    }
    let total = cases.len();
    let rate = 100.0 * passed as f64 / total as f64;
    for f in &failures {
        println!("FAIL {f}");
    }
    for (k, (p, t)) in &by_kind {
        println!("conformance ({k} cases): {p}/{t}");
    }
    println!(
        "conformance: {passed} passed, {} failed ({rate:.1}%)",
        total - passed
    );
    let floor: f64 = std::fs::read_to_string(root.join("floor.txt"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0.0);
    assert!(
        rate + 1e-9 >= floor,
        "the conformance pass rate fell to {rate:.1}%, below the floor of {floor:.1}% in tests/conformance/floor.txt"
    );
}

#[test]
fn canonical_form_ignores_attribute_order_and_whitespace() {
    let a = r#"<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms"><h:head><model><bind nodeset="/data/a" type="int"/><bind type="string" nodeset="/data/b"/></model></h:head></h:html>"#;
    let b = "<h:html xmlns:h=\"http://www.w3.org/1999/xhtml\" xmlns=\"http://www.w3.org/2002/xforms\">\n <h:head>\n  <model>\n   <bind nodeset=\"/data/b\"  type=\"string\"/>\n   <bind type=\"int\" nodeset=\"/data/a\"/>\n  </model>\n </h:head>\n</h:html>";
    assert_eq!(canonical(a).unwrap(), canonical(b).unwrap());
    let c = a.replace("type=\"int\"", "type=\"decimal\"");
    assert_ne!(canonical(a).unwrap(), canonical(&c).unwrap());
}
