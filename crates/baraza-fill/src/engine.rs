//! Evaluation: defaults, repeat counts, relevance, calculations, and the checks of answers.

use crate::index::{Def, Index, Item};
use crate::record::{Filling, Record};
use baraza_expr::{Context, Expr, Value};
use baraza_xlsform::model::{Choice, Form, LangText, QType, Question};
use std::collections::{BTreeSet, HashMap};

/// Most instances a repeat may have (a count expression or "add" beyond it is capped).
pub const MAX_INSTANCES: usize = 500;
/// Most passes over calculations and relevance before the answers are taken as settled.
const MAX_PASSES: usize = 8;

/// What expressions need from the outside world, given by the caller.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Now, ISO 8601 with its offset, e.g. `2026-11-28T10:00:00.000+00:00`.
    pub now: String,
    /// Today, `YYYY-MM-DD`.
    pub today: String,
    /// Now in days since 1970-01-01.
    pub now_days: f64,
    /// The `deviceid` metadata.
    pub device_id: String,
    /// The `username` metadata.
    pub username: String,
    /// The `email` metadata.
    pub email: String,
}

/// Which expression column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
    Relevant,
    Required,
    Constraint,
    Calculation,
    Default,
    Readonly,
    ChoiceFilter,
    RepeatCount,
    Trigger,
}

/// Elements found not relevant, by instance path (each element, not only the topmost).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relevance {
    off: BTreeSet<String>,
}

impl Relevance {
    pub fn is_off(&self, path: &str) -> bool {
        self.off.contains(path)
    }
}

/// A problem with one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The instance path of the question.
    pub path: String,
    pub def: usize,
    pub kind: ProblemKind,
    /// The form's own message in the chosen language, if it has one.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Required and not answered.
    Required,
    /// The form's constraint is false.
    Constraint,
    /// Not a value of the question's type; says what was expected (`integer`, `date`…).
    Type(&'static str),
    /// A choice that is not in the (filtered) list.
    NotAChoice(String),
    /// A rank that does not order every choice exactly once.
    BadRank,
    /// Too long (characters).
    TooLong(usize),
}

/// Longest answer accepted, in characters.
pub const MAX_ANSWER_CHARS: usize = 10_000;

/// The form engine of one form version.
pub struct Engine<'f> {
    pub idx: Index<'f>,
    exprs: HashMap<(usize, Col), Expr>,
    instance_name: Option<Expr>,
    /// Choices of `*_from_file` questions, by file name.
    files: HashMap<String, Vec<Choice>>,
    /// The form language texts are shown in (a name of `form.languages`, or `default`).
    pub lang: String,
    /// The `other` choice added to lists of `or_other` selects.
    other: Choice,
}

fn parse(src: Option<&str>) -> Option<Expr> {
    let src = src?.trim();
    if src.is_empty() {
        return None;
    }
    baraza_expr::parse(src).ok()
}

/// The language of the form that best matches a two-letter code (`fr`, `en`): a language named
/// `… (fr)`, or named by its code, else the form's default language, else its first.
pub fn pick_language(form: &Form, code: &str) -> String {
    let code = code.to_ascii_lowercase();
    let named: Vec<&String> = form.languages.iter().filter(|l| *l != "default").collect();
    if let Some(l) = named.iter().find(|l| {
        let l = l.to_ascii_lowercase();
        l == code
            || l.ends_with(&format!("({code})"))
            || (code == "fr" && (l.starts_with("fran") || l.starts_with("french")))
            || (code == "en" && l.starts_with("english"))
    }) {
        return (*l).clone();
    }
    if let Some(d) = &form.default_language {
        if form.languages.iter().any(|l| l == d) {
            return d.clone();
        }
    }
    named
        .first()
        .map(|l| (*l).clone())
        .unwrap_or_else(|| "default".to_owned())
}

impl<'f> Engine<'f> {
    /// An engine for `form`, showing texts in form language `lang` (see [`pick_language`]).
    /// `files` are the CSV files of `*_from_file` selects, by name, as uploaded.
    pub fn new(form: &'f Form, lang: &str, files: &HashMap<String, Vec<u8>>) -> Engine<'f> {
        let idx = Index::new(form);
        let mut exprs = HashMap::new();
        for (id, def) in idx.defs.iter().enumerate() {
            let cols: Vec<(Col, Option<&str>)> = match def.item {
                Item::Question(q) => vec![
                    (Col::Relevant, q.relevant.as_deref()),
                    (Col::Required, q.required.as_deref()),
                    (Col::Constraint, q.constraint.as_deref()),
                    (Col::Calculation, q.calculation.as_deref()),
                    (
                        Col::Default,
                        q.default.as_deref().filter(|d| dynamic_default(d)),
                    ),
                    (Col::Readonly, q.readonly.as_deref()),
                    (Col::ChoiceFilter, q.choice_filter.as_deref()),
                    (Col::Trigger, q.trigger.as_deref()),
                ],
                Item::Group(g) => vec![
                    (Col::Relevant, g.relevant.as_deref()),
                    (Col::RepeatCount, g.repeat_count.as_deref()),
                ],
            };
            for (col, src) in cols {
                if let Some(e) = parse(src) {
                    exprs.insert((id, col), e);
                }
            }
        }
        let mut lists = HashMap::new();
        for q in form.questions() {
            if matches!(
                q.qtype,
                QType::SelectOneFromFile | QType::SelectMultipleFromFile
            ) {
                if let Some(name) = &q.list {
                    if let Some(bytes) = files.get(name) {
                        lists.insert(name.clone(), choices_from_csv(bytes));
                    }
                }
            }
        }
        let mut other_label = LangText::default();
        for l in &form.languages {
            let text = if l.to_ascii_lowercase().contains("fr") {
                "Autre"
            } else {
                "Other"
            };
            other_label.set(l, text.to_owned());
        }
        if other_label.is_empty() {
            other_label.set("default", "Other".to_owned());
        }
        Engine {
            idx,
            exprs,
            instance_name: parse(form.instance_name.as_deref()),
            files: lists,
            lang: lang.to_owned(),
            other: Choice {
                name: "other".to_owned(),
                row: 0,
                texts: baraza_xlsform::model::Texts {
                    label: other_label,
                    ..Default::default()
                },
                extra: Vec::new(),
            },
        }
    }

    pub fn form(&self) -> &'f Form {
        self.idx.form
    }

    fn expr(&self, id: usize, col: Col) -> Option<&Expr> {
        self.exprs.get(&(id, col))
    }

    /// A text in the engine's language, falling back to the untranslated column, then to any.
    pub fn text<'a>(&self, t: &'a LangText) -> Option<&'a str> {
        t.get(&self.lang)
            .filter(|s| !s.is_empty())
            .or_else(|| t.get("default").filter(|s| !s.is_empty()))
            .or_else(|| t.any())
    }

    // ----- starting ------------------------------------------------------------------------

    /// A new filling: metadata captured, defaults set, one instance of each repeat that has no
    /// count (as web forms show), then everything computed.
    pub fn start(&self, env: &Env) -> Filling {
        let mut f = Filling {
            started: env.now.clone(),
            ..Default::default()
        };
        let top = self.idx.top.clone();
        self.init_level(&mut f.answers, &top, &[], env);
        self.refresh(&mut f, env);
        f
    }

    /// Sets the defaults and metadata of the elements `ids` at `loc`, and creates the first
    /// instance of repeats without a count.
    fn init_level(&self, rec: &mut Record, ids: &[usize], loc: &[usize], env: &Env) {
        for &id in ids {
            let def = self.idx.def(id);
            match def.item {
                Item::Question(q) => {
                    let meta = match q.qtype {
                        QType::Start => Some(env.now.clone()),
                        QType::Today => Some(env.today.clone()),
                        QType::DeviceId => Some(env.device_id.clone()),
                        QType::Username => Some(env.username.clone()),
                        QType::Email => Some(env.email.clone()),
                        _ => None,
                    };
                    if let Some(v) = meta {
                        rec.set(&self.idx, id, loc, &v);
                    } else if let Some(d) = q.default.as_deref() {
                        if let Some(e) = self.expr(id, Col::Default) {
                            let v = self.eval_at(e, rec, id, loc, &Relevance::default(), env);
                            rec.set(&self.idx, id, loc, &string_of(&v));
                        } else if !dynamic_default(d) {
                            rec.set(&self.idx, id, loc, d.trim());
                        }
                    }
                }
                Item::Group(g) => {
                    if g.repeat {
                        if self.expr(id, Col::RepeatCount).is_none()
                            && rec.count(&self.idx, id, loc) == 0
                        {
                            self.add_instance(rec, id, loc, env);
                        }
                    } else {
                        let children = def.children.clone();
                        self.init_level(rec, &children, loc, env);
                    }
                }
            }
        }
    }

    /// Adds an instance at the end of repeat `id` at `loc`, with its defaults. False when the
    /// repeat already has [`MAX_INSTANCES`].
    pub fn add_instance(&self, rec: &mut Record, id: usize, loc: &[usize], env: &Env) -> bool {
        let list = rec.instances_mut(&self.idx, id, loc);
        if list.len() >= MAX_INSTANCES {
            return false;
        }
        list.push(Record::default());
        let index = list.len() - 1;
        let mut inner = loc.to_vec();
        inner.push(index);
        let children = self.idx.def(id).children.clone();
        self.init_level(rec, &children, &inner, env);
        true
    }

    /// Removes instance `index` of repeat `id` at `loc`. Repeats whose count the form computes
    /// cannot lose instances by hand.
    pub fn remove_instance(
        &self,
        rec: &mut Record,
        id: usize,
        loc: &[usize],
        index: usize,
    ) -> bool {
        if self.expr(id, Col::RepeatCount).is_some() {
            return false;
        }
        let list = rec.instances_mut(&self.idx, id, loc);
        if index < list.len() {
            list.remove(index);
            true
        } else {
            false
        }
    }

    /// Whether people add and remove instances of repeat `id` themselves.
    pub fn repeat_is_manual(&self, id: usize) -> bool {
        self.expr(id, Col::RepeatCount).is_none()
    }

    // ----- the whole form, computed --------------------------------------------------------

    /// Every location of element `id`: one per combination of instances of the repeats around
    /// it.
    pub fn locations(&self, rec: &Record, id: usize) -> Vec<Vec<usize>> {
        let repeats = &self.idx.def(id).repeats;
        let mut out = vec![Vec::new()];
        for &r in repeats {
            let mut next = Vec::new();
            for loc in &out {
                let parent_loc = &loc[..self.idx.def(r).repeats.len()];
                for i in 0..rec.count(&self.idx, r, parent_loc) {
                    let mut l = loc.clone();
                    l.push(i);
                    next.push(l);
                }
            }
            out = next;
        }
        out
    }

    /// Recomputes repeat counts, relevance and calculations until they settle, and returns the
    /// relevance found.
    pub fn refresh(&self, f: &mut Filling, env: &Env) -> Relevance {
        let mut rel = Relevance::default();
        for _ in 0..MAX_PASSES {
            let before = f.answers.clone();
            self.apply_counts(&mut f.answers, &rel, env);
            let new_rel = self.relevance(&f.answers, &rel, env);
            self.calculate(f, &new_rel, env);
            let settled = new_rel == rel && before == f.answers;
            rel = new_rel;
            if settled {
                break;
            }
        }
        rel
    }

    fn apply_counts(&self, rec: &mut Record, rel: &Relevance, env: &Env) {
        for id in 0..self.idx.defs.len() {
            let Some(e) = self.expr(id, Col::RepeatCount) else {
                continue;
            };
            for loc in self.locations(rec, id) {
                let v = self.eval_at(e, rec, id, &loc, rel, env);
                let n = v.to_number();
                let n = if n.is_finite() && n > 0.0 {
                    (n.trunc() as usize).min(MAX_INSTANCES)
                } else {
                    0
                };
                let have = rec.count(&self.idx, id, &loc);
                if have > n {
                    rec.instances_mut(&self.idx, id, &loc).truncate(n);
                }
                for _ in have..n {
                    self.add_instance(rec, id, &loc, env);
                }
            }
        }
    }

    fn relevance(&self, rec: &Record, prev: &Relevance, env: &Env) -> Relevance {
        let mut off = BTreeSet::new();
        self.walk_relevance(rec, &self.idx.top, &[], true, prev, env, &mut off);
        Relevance { off }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_relevance(
        &self,
        rec: &Record,
        ids: &[usize],
        loc: &[usize],
        parent_on: bool,
        prev: &Relevance,
        env: &Env,
        off: &mut BTreeSet<String>,
    ) {
        for &id in ids {
            let def = self.idx.def(id);
            if def.is_repeat() {
                for i in 0..rec.count(&self.idx, id, loc) {
                    let mut inner = loc.to_vec();
                    inner.push(i);
                    let on = parent_on && self.is_on(rec, id, &inner, prev, env);
                    if !on {
                        off.insert(self.idx.instance_path(id, loc, i));
                    }
                    self.walk_relevance(rec, &def.children, &inner, on, prev, env, off);
                }
            } else {
                let on = parent_on && self.is_on(rec, id, loc, prev, env);
                if !on {
                    off.insert(self.idx.path(id, loc));
                }
                if !def.children.is_empty() {
                    self.walk_relevance(rec, &def.children, loc, on, prev, env, off);
                }
            }
        }
    }

    /// Whether element `id`'s own `relevant` holds at `loc` (for a repeat, `loc` includes the
    /// instance).
    fn is_on(&self, rec: &Record, id: usize, loc: &[usize], rel: &Relevance, env: &Env) -> bool {
        match self.expr(id, Col::Relevant) {
            None => true,
            Some(e) => self.eval_at(e, rec, id, loc, rel, env).to_bool(),
        }
    }

    fn calculate(&self, f: &mut Filling, rel: &Relevance, env: &Env) {
        for id in 0..self.idx.defs.len() {
            let Some(e) = self.expr(id, Col::Calculation) else {
                continue;
            };
            for loc in self.locations(&f.answers, id) {
                let path = self.idx.path(id, &loc);
                if rel.is_off(&path) {
                    continue;
                }
                if let Some(t) = self.expr(id, Col::Trigger) {
                    // Recomputed only when the trigger's value changes.
                    let tv = string_of(&self.eval_at(t, &f.answers, id, &loc, rel, env));
                    if f.triggers.get(&path) == Some(&tv) {
                        continue;
                    }
                    f.triggers.insert(path.clone(), tv);
                }
                let v = self.eval_at(e, &f.answers, id, &loc, rel, env);
                let s = string_of(&v);
                f.answers.set(&self.idx, id, &loc, &s);
            }
        }
    }

    /// Evaluates `e` with element `id` at `loc` as the context; an expression that cannot be
    /// evaluated counts as empty.
    fn eval_at(
        &self,
        e: &Expr,
        rec: &Record,
        id: usize,
        loc: &[usize],
        rel: &Relevance,
        env: &Env,
    ) -> Value {
        let current = match self.idx.def(id).item {
            Item::Question(_) if loc.len() == self.idx.def(id).repeats.len() => {
                Value::Str(rec.get(&self.idx, id, loc).to_owned())
            }
            _ => Value::Str(String::new()),
        };
        let cx = Cx {
            eng: self,
            rec,
            id,
            loc,
            rel,
            env,
            current,
            choice: None,
        };
        baraza_expr::eval(e, &cx).unwrap_or(Value::Str(String::new()))
    }

    /// The repeats around the context of element `id` evaluated at `loc`: its enclosing
    /// repeats, plus itself when `loc` also names one of its instances.
    fn chain(&self, id: usize, loc: &[usize]) -> Vec<usize> {
        let def = self.idx.def(id);
        let mut chain = def.repeats.clone();
        if def.is_repeat() && loc.len() > chain.len() {
            chain.push(id);
        }
        chain
    }

    /// The value of `${name}` seen from element `at` at `loc`.
    fn reference(
        &self,
        rec: &Record,
        target: usize,
        at: usize,
        loc: &[usize],
        rel: &Relevance,
    ) -> Value {
        let chain = self.chain(at, loc);
        let t = self.idx.def(target);
        let mut common = 0;
        while common < t.repeats.len()
            && common < chain.len()
            && common < loc.len()
            && t.repeats[common] == chain[common]
        {
            common += 1;
        }
        // The instances of the target's repeats beyond the shared ones: all of them.
        let mut locs = vec![loc[..common].to_vec()];
        for &r in &t.repeats[common..] {
            let mut next = Vec::new();
            for l in &locs {
                for i in 0..rec.count(&self.idx, r, l) {
                    let mut n = l.clone();
                    n.push(i);
                    next.push(n);
                }
            }
            locs = next;
        }
        let single = common == t.repeats.len();
        match t.item {
            Item::Group(g) if g.repeat => {
                let n: usize = locs.iter().map(|l| rec.count(&self.idx, target, l)).sum();
                Value::Nodes(vec![String::new(); n])
            }
            Item::Group(_) => Value::Str(String::new()),
            Item::Question(_) => {
                let vals: Vec<String> = locs
                    .iter()
                    .map(|l| {
                        if rel.is_off(&self.idx.path(target, l)) {
                            String::new()
                        } else {
                            rec.get(&self.idx, target, l).to_owned()
                        }
                    })
                    .collect();
                if single {
                    Value::Str(vals.into_iter().next().unwrap_or_default())
                } else {
                    Value::Nodes(vals)
                }
            }
        }
    }

    // ----- choices -------------------------------------------------------------------------

    /// The choices of a select, before filtering (with `other` for `or_other`).
    pub fn all_choices(&self, q: &'f Question) -> Vec<&Choice> {
        let mut out: Vec<&Choice> = match q.qtype {
            QType::SelectOneFromFile | QType::SelectMultipleFromFile => q
                .list
                .as_ref()
                .and_then(|f| self.files.get(f))
                .map(|l| l.iter().collect())
                .unwrap_or_default(),
            _ => q
                .list
                .as_ref()
                .and_then(|l| self.form().list(l))
                .map(|l| l.choices.iter().collect())
                .unwrap_or_default(),
        };
        if q.or_other {
            out.push(&self.other);
        }
        out
    }

    /// The choices of select `id` at `loc` that its choice filter keeps.
    pub fn choices(
        &self,
        rec: &Record,
        id: usize,
        loc: &[usize],
        rel: &Relevance,
        env: &Env,
    ) -> Vec<&Choice> {
        let Some(q) = self.idx.def(id).question() else {
            return Vec::new();
        };
        let all = self.all_choices(q);
        let Some(filter) = self.expr(id, Col::ChoiceFilter) else {
            return all;
        };
        all.into_iter()
            .filter(|c| {
                if c.name == "other" && q.or_other {
                    return true;
                }
                let cx = Cx {
                    eng: self,
                    rec,
                    id,
                    loc,
                    rel,
                    env,
                    current: Value::Str(c.name.clone()),
                    choice: Some(c),
                };
                baraza_expr::eval(filter, &cx)
                    .map(|v| v.to_bool())
                    .unwrap_or(false)
            })
            .collect()
    }

    /// A choice's label in the engine's language (its name when it has none).
    pub fn choice_label(&self, c: &Choice) -> String {
        self.text(&c.texts.label)
            .map(str::to_owned)
            .unwrap_or_else(|| c.name.clone())
    }

    // ----- checks --------------------------------------------------------------------------

    /// Whether question `id` at `loc` is required there.
    pub fn is_required(
        &self,
        rec: &Record,
        id: usize,
        loc: &[usize],
        rel: &Relevance,
        env: &Env,
    ) -> bool {
        self.expr(id, Col::Required)
            .is_some_and(|e| self.eval_at(e, rec, id, loc, rel, env).to_bool())
    }

    /// Whether question `id` at `loc` is read-only (its `readonly`, or a calculation).
    pub fn is_readonly(
        &self,
        rec: &Record,
        id: usize,
        loc: &[usize],
        rel: &Relevance,
        env: &Env,
    ) -> bool {
        self.expr(id, Col::Calculation).is_some()
            || self
                .expr(id, Col::Readonly)
                .is_some_and(|e| self.eval_at(e, rec, id, loc, rel, env).to_bool())
    }

    /// The problems of the questions under the top-level elements `scope` (or of the whole form
    /// when `None`), relevant ones only.
    pub fn check(
        &self,
        f: &Filling,
        rel: &Relevance,
        env: &Env,
        scope: Option<&[usize]>,
    ) -> Vec<Problem> {
        let mut out = Vec::new();
        let ids: Vec<usize> = match scope {
            Some(s) => s.to_vec(),
            None => self.idx.top.clone(),
        };
        let mut stack = ids;
        let mut questions = Vec::new();
        while let Some(id) = stack.pop() {
            let def = self.idx.def(id);
            match def.item {
                Item::Question(_) => questions.push(id),
                Item::Group(_) => stack.extend(def.children.iter().copied()),
            }
        }
        questions.sort_unstable();
        for id in questions {
            for loc in self.locations(&f.answers, id) {
                self.check_one(f, rel, env, id, &loc, &mut out);
            }
        }
        out
    }

    fn check_one(
        &self,
        f: &Filling,
        rel: &Relevance,
        env: &Env,
        id: usize,
        loc: &[usize],
        out: &mut Vec<Problem>,
    ) {
        let def = self.idx.def(id);
        let Some(q) = def.question() else { return };
        let path = self.idx.path(id, loc);
        if rel.is_off(&path) || q.qtype.is_metadata() {
            return;
        }
        let rec = &f.answers;
        let value = rec.get(&self.idx, id, loc);
        let problem = |kind: ProblemKind, message: Option<String>| Problem {
            path: path.clone(),
            def: id,
            kind,
            message,
        };
        if value.is_empty() {
            if q.qtype.has_control()
                && self.expr(id, Col::Calculation).is_none()
                && self.is_required(rec, id, loc, rel, env)
            {
                let msg = self.text(&q.texts.required_message).map(str::to_owned);
                out.push(problem(ProblemKind::Required, msg));
            }
            return;
        }
        if value.chars().count() > MAX_ANSWER_CHARS {
            out.push(problem(ProblemKind::TooLong(MAX_ANSWER_CHARS), None));
            return;
        }
        if q.qtype == QType::Calculate || q.qtype == QType::Note {
            return;
        }
        if let Err(expected) = baraza_openrosa::read_value(q, value) {
            out.push(problem(ProblemKind::Type(expected), None));
            return;
        }
        if q.qtype.is_select() && q.qtype != QType::Rank {
            let allowed = self.choices(rec, id, loc, rel, env);
            let picked: Vec<&str> = value.split_whitespace().collect();
            if matches!(q.qtype, QType::SelectOne | QType::SelectOneFromFile) && picked.len() > 1 {
                out.push(problem(ProblemKind::NotAChoice(value.to_owned()), None));
                return;
            }
            if let Some(bad) = picked
                .iter()
                .find(|p| !allowed.iter().any(|c| c.name == **p))
            {
                out.push(problem(ProblemKind::NotAChoice((*bad).to_owned()), None));
                return;
            }
        }
        if q.qtype == QType::Rank {
            let all = self.all_choices(q);
            let mut picked: Vec<&str> = value.split_whitespace().collect();
            picked.sort_unstable();
            let mut names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
            names.sort_unstable();
            if picked != names {
                out.push(problem(ProblemKind::BadRank, None));
                return;
            }
        }
        if let Some(c) = self.expr(id, Col::Constraint) {
            if !self.eval_at(c, rec, id, loc, rel, env).to_bool() {
                let msg = self.text(&q.texts.constraint_message).map(str::to_owned);
                out.push(problem(ProblemKind::Constraint, msg));
            }
        }
    }

    // ----- texts ---------------------------------------------------------------------------

    /// A label or hint with its `${name}` references replaced by the answers seen from `id` at
    /// `loc`.
    pub fn interpolate(
        &self,
        text: &str,
        rec: &Record,
        id: usize,
        loc: &[usize],
        rel: &Relevance,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            match after.find('}') {
                Some(end) => {
                    let name = after[..end].trim();
                    match self.idx.by_name(name) {
                        Some(t) => {
                            let v = self.reference(rec, t, id, loc, rel);
                            out.push_str(&match v {
                                Value::Nodes(n) => n.join(" "),
                                other => other.to_string_value(),
                            });
                        }
                        None => out.push_str(&rest[at..at + 3 + end]),
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[at..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The label of element `id` at `loc`, interpolated, if it has one.
    pub fn label(&self, rec: &Record, id: usize, loc: &[usize], rel: &Relevance) -> Option<String> {
        let texts = match self.idx.def(id).item {
            Item::Question(q) => &q.texts,
            Item::Group(g) => &g.texts,
        };
        self.text(&texts.label)
            .map(|t| self.interpolate(t, rec, id, loc, rel))
    }

    pub fn hint(&self, rec: &Record, id: usize, loc: &[usize], rel: &Relevance) -> Option<String> {
        let texts = match self.idx.def(id).item {
            Item::Question(q) => &q.texts,
            Item::Group(g) => &g.texts,
        };
        self.text(&texts.hint)
            .map(|t| self.interpolate(t, rec, id, loc, rel))
    }

    /// The instance name (`instance_name` setting) of a filling.
    pub fn instance_name(&self, rec: &Record, rel: &Relevance, env: &Env) -> Option<String> {
        let e = self.instance_name.as_ref()?;
        let cx = Cx {
            eng: self,
            rec,
            id: usize::MAX,
            loc: &[],
            rel,
            env,
            current: Value::Str(String::new()),
            choice: None,
        };
        baraza_expr::eval(e, &cx)
            .ok()
            .map(|v| string_of(&v))
            .filter(|s| !s.is_empty())
    }

    pub fn def(&self, id: usize) -> &Def<'f> {
        self.idx.def(id)
    }

    /// The questions of a page whose answers change what the same page shows: relevance,
    /// choice filters, calculations, repeat counts and labels of elements on the page refer to
    /// them. (An optional script refreshes the page when they change.)
    pub fn live_questions(&self, page: &[usize]) -> Vec<usize> {
        let mut live = Vec::new();
        let on_page = |id: usize| self.on_page(id, page);
        for (id, def) in self.idx.defs.iter().enumerate() {
            if !on_page(id) {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            for col in [
                Col::Relevant,
                Col::ChoiceFilter,
                Col::Calculation,
                Col::RepeatCount,
            ] {
                if let Some(e) = self.expr(id, col) {
                    names.extend(e.references().into_iter().map(|(n, _)| n));
                }
            }
            let texts = match def.item {
                Item::Question(q) => &q.texts,
                Item::Group(g) => &g.texts,
            };
            for t in [&texts.label, &texts.hint] {
                for (_, text) in &t.0 {
                    let mut rest = text.as_str();
                    while let Some(at) = rest.find("${") {
                        rest = &rest[at + 2..];
                        if let Some(end) = rest.find('}') {
                            names.push(rest[..end].trim().to_owned());
                            rest = &rest[end..];
                        }
                    }
                }
            }
            for n in names {
                if let Some(t) = self.idx.by_name(&n) {
                    if t != id && on_page(t) && !live.contains(&t) {
                        live.push(t);
                    }
                }
            }
        }
        live
    }
}

/// The evaluation context of one element at one location.
struct Cx<'a, 'f> {
    eng: &'a Engine<'f>,
    rec: &'a Record,
    /// The context element; `usize::MAX` for the form as a whole.
    id: usize,
    loc: &'a [usize],
    rel: &'a Relevance,
    env: &'a Env,
    current: Value,
    /// The choice a choice filter is testing.
    choice: Option<&'a Choice>,
}

impl Context for Cx<'_, '_> {
    fn reference(&self, name: &str) -> Option<Value> {
        let target = self.eng.idx.by_name(name)?;
        if self.id == usize::MAX {
            // The form as a whole: outside every repeat.
            let t = self.eng.idx.def(target);
            if t.repeats.is_empty() && t.question().is_some() {
                let path = self.eng.idx.path(target, &[]);
                return Some(Value::Str(if self.rel.is_off(&path) {
                    String::new()
                } else {
                    self.rec.get(&self.eng.idx, target, &[]).to_owned()
                }));
            }
            return Some(Value::Str(String::new()));
        }
        Some(
            self.eng
                .reference(self.rec, target, self.id, self.loc, self.rel),
        )
    }

    fn current(&self) -> Value {
        self.current.clone()
    }

    fn today(&self) -> String {
        self.env.today.clone()
    }

    fn now(&self) -> String {
        self.env.now.clone()
    }

    fn now_days(&self) -> f64 {
        self.env.now_days
    }

    fn position(&self) -> Option<usize> {
        if self.id == usize::MAX {
            return None;
        }
        let chain = self.eng.chain(self.id, self.loc);
        (!chain.is_empty())
            .then(|| self.loc.get(chain.len() - 1).map(|i| i + 1))
            .flatten()
    }

    fn choice_label(&self, field: &str, value: &str) -> Option<String> {
        let id = self.eng.idx.by_name(field)?;
        let q = self.eng.idx.def(id).question()?;
        self.eng
            .all_choices(q)
            .into_iter()
            .find(|c| c.name == value)
            .map(|c| self.eng.choice_label(c))
    }

    fn child(&self, name: &str) -> Option<Value> {
        let c = self.choice?;
        if name == "name" {
            return Some(Value::Str(c.name.clone()));
        }
        if let Some((_, v)) = c.extra.iter().find(|(k, _)| k == name) {
            return Some(Value::Str(v.clone()));
        }
        if name == "label" {
            return Some(Value::Str(self.eng.choice_label(c)));
        }
        // A column this choice leaves empty.
        Some(Value::Str(String::new()))
    }
}

/// A value as an answer's text: numbers as XPath prints them (nothing for NaN), booleans as
/// `true`/`false`, a node-set as its first node.
pub fn string_of(v: &Value) -> String {
    match v {
        Value::Number(n) if !n.is_finite() => String::new(),
        other => other.to_string_value(),
    }
}

/// Whether a default is an expression to evaluate (pyxform's rule for dynamic defaults).
pub fn dynamic_default(d: &str) -> bool {
    d.contains("${")
        || d.contains('(')
        || d.contains(" + ")
        || d.contains(" - ")
        || d.contains(" * ")
        || d.contains(" div ")
}

/// The choices of a `*_from_file` CSV: a `name` column, `label` (or `label::Language`) columns,
/// other columns kept for choice filters. Rows without a name are skipped; at most 100,000.
pub fn choices_from_csv(bytes: &[u8]) -> Vec<Choice> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let Ok(headers) = rdr.headers().cloned() else {
        return Vec::new();
    };
    let headers: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
    let mut out = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        if i >= 100_000 {
            break;
        }
        let Ok(row) = row else { continue };
        let mut c = Choice {
            name: String::new(),
            row: i + 2,
            texts: Default::default(),
            extra: Vec::new(),
        };
        for (h, v) in headers.iter().zip(row.iter()) {
            if h == "name" {
                c.name = v.trim().to_owned();
            } else if h == "label" {
                c.texts.label.set("default", v.to_owned());
            } else if let Some(lang) = h.strip_prefix("label::") {
                c.texts.label.set(lang.trim(), v.to_owned());
            } else {
                c.extra.push((h.clone(), v.to_owned()));
            }
        }
        if !c.name.is_empty() {
            out.push(c);
        }
    }
    out
}
