//! The form as the engine walks it: every group, repeat and question once, with its parent, the
//! repeats around it, its key inside its repeat instance and its XForm path.

use baraza_xlsform::model::{Form, Group, Node, QType, Question};
use std::collections::HashMap;

/// A question, a group or a repeat of the form.
#[derive(Debug, Clone, Copy)]
pub enum Item<'f> {
    Question(&'f Question),
    Group(&'f Group),
}

/// One element of the form, numbered in document order.
#[derive(Debug, Clone)]
pub struct Def<'f> {
    pub item: Item<'f>,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// The repeats around this element, outermost first (never itself).
    pub repeats: Vec<usize>,
    /// The path below the innermost repeat instance around it (or the root): `group/question`.
    pub key: String,
    /// The XForm path, without repeat indices: `/data/group/question`.
    pub xpath: String,
}

impl<'f> Def<'f> {
    pub fn name(&self) -> &'f str {
        match self.item {
            Item::Question(q) => &q.name,
            Item::Group(g) => &g.name,
        }
    }

    pub fn question(&self) -> Option<&'f Question> {
        match self.item {
            Item::Question(q) => Some(q),
            Item::Group(_) => None,
        }
    }

    pub fn group(&self) -> Option<&'f Group> {
        match self.item {
            Item::Group(g) => Some(g),
            Item::Question(_) => None,
        }
    }

    pub fn is_repeat(&self) -> bool {
        matches!(self.item, Item::Group(g) if g.repeat)
    }

    pub fn relevant(&self) -> Option<&'f str> {
        match self.item {
            Item::Question(q) => q.relevant.as_deref(),
            Item::Group(g) => g.relevant.as_deref(),
        }
    }
}

/// The whole form, indexed.
#[derive(Debug, Clone)]
pub struct Index<'f> {
    pub form: &'f Form,
    pub defs: Vec<Def<'f>>,
    /// The top-level elements, in order.
    pub top: Vec<usize>,
    by_name: HashMap<&'f str, usize>,
}

impl<'f> Index<'f> {
    pub fn new(form: &'f Form) -> Index<'f> {
        let mut idx = Index {
            form,
            defs: Vec::new(),
            top: Vec::new(),
            by_name: HashMap::new(),
        };
        let root = format!("/{}", form.root);
        let top = idx.add(&form.children, None, &[], "", &root);
        idx.top = top;
        idx
    }

    fn add(
        &mut self,
        nodes: &'f [Node],
        parent: Option<usize>,
        repeats: &[usize],
        key_prefix: &str,
        xpath_prefix: &str,
    ) -> Vec<usize> {
        let mut ids = Vec::new();
        for n in nodes {
            // Audit lives in meta, is never shown and never filled in a browser.
            if matches!(n, Node::Question(q) if q.qtype == QType::Audit) {
                continue;
            }
            let name = n.name();
            let key = format!("{key_prefix}{name}");
            let xpath = format!("{xpath_prefix}/{name}");
            let id = self.defs.len();
            let item = match n {
                Node::Question(q) => Item::Question(q),
                Node::Group(g) => Item::Group(g),
            };
            self.defs.push(Def {
                item,
                parent,
                children: Vec::new(),
                repeats: repeats.to_vec(),
                key: key.clone(),
                xpath: xpath.clone(),
            });
            // The first element of a name wins (names are unique in a compiled form).
            self.by_name.entry(name).or_insert(id);
            if let Node::Group(g) = n {
                let children = if g.repeat {
                    let mut inner = repeats.to_vec();
                    inner.push(id);
                    self.add(&g.children, Some(id), &inner, "", &xpath)
                } else {
                    self.add(&g.children, Some(id), repeats, &format!("{key}/"), &xpath)
                };
                self.defs[id].children = children;
            }
            ids.push(id);
        }
        ids
    }

    pub fn by_name(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn def(&self, id: usize) -> &Def<'f> {
        &self.defs[id]
    }

    /// The instance path of element `id` in the repeat instances `loc` (0-based, one per repeat
    /// around it): `/data/group/repeat[2]/question`.
    pub fn path(&self, id: usize, loc: &[usize]) -> String {
        let def = &self.defs[id];
        let mut out = self.defs[id].xpath.clone();
        // Insert indices from the innermost repeat outwards so earlier offsets stay valid.
        let mut cuts: Vec<(usize, usize)> = Vec::new();
        for (r, i) in def.repeats.iter().zip(loc) {
            cuts.push((self.defs[*r].xpath.len(), *i));
        }
        for (at, i) in cuts.into_iter().rev() {
            out.insert_str(at, &format!("[{}]", i + 1));
        }
        out
    }

    /// The path of one instance of repeat `id`.
    pub fn instance_path(&self, id: usize, loc: &[usize], index: usize) -> String {
        format!("{}[{}]", self.path(id, loc), index + 1)
    }

    /// Reads an instance path back into an element and its repeat instances. Segments of
    /// repeats without an index mean the first instance (as a raw submission writes a repeat
    /// that has a single instance).
    pub fn parse_path(&self, path: &str) -> Option<(usize, Vec<usize>)> {
        let rest = path.strip_prefix('/')?;
        let mut segs = rest.split('/');
        if segs.next()? != self.form.root {
            return None;
        }
        let mut level: &[usize] = &self.top;
        let mut current: Option<usize> = None;
        let mut loc = Vec::new();
        for seg in segs {
            let (name, index) = match seg.strip_suffix(']').and_then(|s| s.split_once('[')) {
                Some((n, i)) => (n, Some(i.parse::<usize>().ok().filter(|i| *i >= 1)?)),
                None => (seg, None),
            };
            let id = *level.iter().find(|id| self.defs[**id].name() == name)?;
            let def = &self.defs[id];
            if def.is_repeat() {
                loc.push(index.unwrap_or(1) - 1);
            } else if index.is_some() {
                return None;
            }
            current = Some(id);
            level = &self.defs[id].children;
        }
        let id = current?;
        // A path naming a repeat itself ends with that repeat's instance index, which is not
        // part of the location of the repeat element.
        if self.defs[id].is_repeat() {
            loc.pop();
        }
        Some((id, loc))
    }
}
