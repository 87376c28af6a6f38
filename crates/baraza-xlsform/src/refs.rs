//! Expressions and `${references}`: every expression column is parsed and checked, every
//! reference must name a question, calculations must not go round in circles; and references are
//! turned into the XPath paths ODK expects (absolute, or relative inside a shared repeat, as
//! pyxform writes them).

use crate::diag::Diagnostic;
use crate::model::*;
use std::collections::HashMap;

/// Where each name lives: its path below the root and which of its ancestors are repeats.
#[derive(Debug, Default)]
pub struct Paths {
    map: HashMap<String, Vec<(String, bool)>>,
}

impl Paths {
    pub fn of(form: &Form) -> Paths {
        fn walk(
            nodes: &[Node],
            prefix: &mut Vec<(String, bool)>,
            map: &mut HashMap<String, Vec<(String, bool)>>,
        ) {
            for n in nodes {
                match n {
                    Node::Question(q) => {
                        let mut p = prefix.clone();
                        p.push((q.name.clone(), false));
                        map.entry(q.name.clone()).or_insert(p);
                        if q.or_other {
                            let mut p = prefix.clone();
                            p.push((format!("{}_other", q.name), false));
                            map.entry(format!("{}_other", q.name)).or_insert(p);
                        }
                    }
                    Node::Group(g) => {
                        prefix.push((g.name.clone(), g.repeat));
                        map.entry(g.name.clone()).or_insert_with(|| prefix.clone());
                        walk(&g.children, prefix, map);
                        prefix.pop();
                    }
                }
            }
        }
        let mut map = HashMap::new();
        walk(&form.children, &mut Vec::new(), &mut map);
        Paths { map }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The absolute path of `name`, e.g. `/data/group/name`.
    pub fn absolute(&self, root: &str, name: &str) -> Option<String> {
        self.map.get(name).map(|p| {
            let mut s = format!("/{root}");
            for (n, _) in p {
                s.push('/');
                s.push_str(n);
            }
            s
        })
    }

    /// The path of `target` as seen from the element `source` (a name, or `None` for the root):
    /// relative when both are inside the same repeat, absolute otherwise.
    pub fn from(&self, root: &str, source: Option<&str>, target: &str) -> Option<(String, bool)> {
        let t = self.map.get(target)?;
        let s = source.and_then(|s| self.map.get(s));
        if let Some(s) = s {
            // Relative when source and target share a repeat: the path climbs to their deepest
            // common ancestor and goes down from there.
            let common = s
                .iter()
                .zip(t.iter())
                .take_while(|(a, b)| a.0 == b.0)
                .count();
            let shares_repeat = s[..common].iter().any(|(_, r)| *r) && common < s.len();
            if shares_repeat && s != t {
                let mut parts: Vec<String> = vec!["..".into(); s.len() - common];
                parts.extend(t[common..].iter().map(|x| x.0.clone()));
                return Some((parts.join("/"), true));
            }
        }
        self.absolute(root, target).map(|a| (a, false))
    }
}

/// Replaces every `${name}` of `src` (found by the expression parser, or by a plain scan for
/// labels) with `resolve(name)`, keeping the rest of the text as written, as pyxform does.
pub fn substitute(src: &str, resolve: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(src.len() + 16);
    let mut rest = src;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push_str(&resolve(after[..end].trim()));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `${names}` in a text (a label, say).
pub fn names_in(src: &str) -> Vec<String> {
    let out = std::cell::RefCell::new(Vec::new());
    substitute(src, &|n| {
        out.borrow_mut().push(n.to_owned());
        String::new()
    });
    out.into_inner()
}

fn expr_diag(e: &baraza_expr::ExprError, row: usize, column: &str) -> Diagnostic {
    let code = match e.code {
        "expr_syntax"
        | "expr_unclosed_paren"
        | "expr_unclosed_string"
        | "expr_bad_reference"
        | "expr_unknown_function"
        | "expr_arity"
        | "expr_too_deep"
        | "expr_too_long"
        | "expr_empty" => e.code,
        _ => "expr_syntax",
    };
    Diagnostic::error(code, "survey")
        .at(row)
        .col(column)
        .arg("near", e.detail.clone())
}

/// Checks one expression column: syntax, functions, and that each reference exists.
fn check_expr(
    src: &str,
    row: usize,
    column: &str,
    paths: &Paths,
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    match baraza_expr::parse(src) {
        Err(e) => {
            diags.push(expr_diag(&e, row, column));
            Vec::new()
        }
        Ok(expr) => {
            for e in expr.check() {
                diags.push(expr_diag(&e, row, column));
            }
            let mut names = Vec::new();
            for (name, _) in expr.references() {
                if !paths.contains(&name) {
                    diags.push(
                        Diagnostic::error("reference_unknown", "survey")
                            .at(row)
                            .col(column)
                            .arg("name", name.clone()),
                    );
                }
                names.push(name);
            }
            names
        }
    }
}

fn check_text_refs(
    t: &LangText,
    row: usize,
    column: &str,
    paths: &Paths,
    diags: &mut Vec<Diagnostic>,
) {
    for (_, v) in &t.0 {
        for name in names_in(v) {
            if !paths.contains(&name) {
                diags.push(
                    Diagnostic::error("reference_unknown", "survey")
                        .at(row)
                        .col(column)
                        .arg("name", name),
                );
            }
        }
    }
}

/// Checks every expression and reference of the form, and looks for cycles among calculations.
pub fn check(form: &Form, diags: &mut Vec<Diagnostic>) {
    let paths = Paths::of(form);
    let mut deps: Vec<(String, usize, Vec<String>)> = Vec::new();
    fn walk(
        nodes: &[Node],
        paths: &Paths,
        diags: &mut Vec<Diagnostic>,
        deps: &mut Vec<(String, usize, Vec<String>)>,
    ) {
        for n in nodes {
            match n {
                Node::Question(q) => {
                    let r = q.row;
                    for (col, v) in [
                        ("relevant", &q.relevant),
                        ("constraint", &q.constraint),
                        ("choice_filter", &q.choice_filter),
                    ] {
                        if let Some(v) = v {
                            check_expr(v, r, col, paths, diags);
                        }
                    }
                    for (col, v) in [("required", &q.required), ("readonly", &q.readonly)] {
                        if let Some(v) = v.as_deref().filter(|v| *v != "true()") {
                            check_expr(v, r, col, paths, diags);
                        }
                    }
                    if let Some(c) = &q.calculation {
                        let names = check_expr(c, r, "calculation", paths, diags);
                        deps.push((q.name.clone(), r, names));
                    }
                    if let Some(t) = &q.trigger {
                        check_expr(t, r, "trigger", paths, diags);
                    }
                    check_text_refs(&q.texts.label, r, "label", paths, diags);
                    check_text_refs(&q.texts.hint, r, "hint", paths, diags);
                }
                Node::Group(g) => {
                    if let Some(v) = &g.relevant {
                        check_expr(v, g.row, "relevant", paths, diags);
                    }
                    if let Some(v) = &g.repeat_count {
                        check_expr(v, g.row, "repeat_count", paths, diags);
                    }
                    check_text_refs(&g.texts.label, g.row, "label", paths, diags);
                    walk(&g.children, paths, diags, deps);
                }
            }
        }
    }
    walk(&form.children, &paths, diags, &mut deps);
    if let Some(name) = &form.instance_name {
        for n in names_in(name) {
            if !paths.contains(&n) {
                diags.push(
                    Diagnostic::error("reference_unknown", "settings")
                        .col("instance_name")
                        .arg("name", n),
                );
            }
        }
    }
    report_cycles(&deps, diags);
}

/// Depth-first search for cycles among calculations; each cycle is reported once, at its first
/// row.
fn report_cycles(deps: &[(String, usize, Vec<String>)], diags: &mut Vec<Diagnostic>) {
    let index: HashMap<&str, usize> = deps
        .iter()
        .enumerate()
        .map(|(i, d)| (d.0.as_str(), i))
        .collect();
    // 0 = unseen, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; deps.len()];
    let mut reported: Vec<Vec<String>> = Vec::new();
    for start in 0..deps.len() {
        if state[start] != 0 {
            continue;
        }
        // Iterative DFS with an explicit stack of (node, next edge).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
            let targets = &deps[node].2;
            if *edge < targets.len() {
                let t = &targets[*edge];
                *edge += 1;
                if let Some(&ti) = index.get(t.as_str()) {
                    if state[ti] == 1 {
                        let pos = stack.iter().position(|(n, _)| *n == ti).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[pos..]
                            .iter()
                            .map(|(n, _)| deps[*n].0.clone())
                            .collect();
                        let mut key = cycle.clone();
                        key.sort();
                        if !reported.contains(&key) {
                            reported.push(key);
                            let row = stack[pos..]
                                .iter()
                                .map(|(n, _)| deps[*n].1)
                                .min()
                                .unwrap_or(0);
                            cycle.push(deps[ti].0.clone());
                            diags.push(
                                Diagnostic::error("calculation_cycle", "survey")
                                    .at(row)
                                    .col("calculation")
                                    .arg("cycle", cycle.join(" → ")),
                            );
                        }
                    } else if state[ti] == 0 {
                        state[ti] = 1;
                        stack.push((ti, 0));
                    }
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_keeps_the_text() {
        let s = substitute("${a} > 3 and ${ b } = 'x'", &|n| format!(" /data/{n} "));
        assert_eq!(s, " /data/a  > 3 and  /data/b  = 'x'");
        assert_eq!(names_in("Hello ${name}, ${age}"), vec!["name", "age"]);
        assert_eq!(substitute("unclosed ${a", &|_| "X".into()), "unclosed ${a");
    }
}
