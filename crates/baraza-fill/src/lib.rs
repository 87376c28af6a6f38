//! # baraza-fill: filling a form on the server
//!
//! ODK Collect evaluates a form on the phone; a browser without JavaScript cannot, so Baraza's
//! web form evaluates it here, at every page, and so does the import of a spreadsheet of
//! answers. This crate is that engine. It is pure: no IO, no clock (the time comes in an
//! [`Env`]), no database; the web layer keeps a [`Filling`] in a server-side draft between
//! pages.
//!
//! **The model.** [`Index`] numbers every group, repeat and question of a
//! [`baraza_xlsform::Form`] in document order and knows, for each, the repeats around it. A
//! *location* is the list of instance numbers of those repeats (0-based, outermost first), and
//! an *instance path* such as `/data/menage/enfant[2]/age_mois` names one element at one
//! location; instance paths are also the names of the web form's inputs, so a post can only
//! ever address an element of the form. Answers live in a [`Record`] shaped like the XForm
//! instance (answers by key at each level, repeat instances as nested records), as the text
//! the XML will carry.
//!
//! **Evaluation.** [`Engine::refresh`] applies repeat counts, then relevance (an element is
//! relevant when its own `relevant` holds and its parent is relevant), then calculations, and
//! repeats until nothing changes (bounded). Expressions are `baraza_expr` ASTs parsed once;
//! `${name}` is resolved as JavaRosa does: inside the repeat instances shared with the
//! context, a single value; across other repeat instances, a node-set of all of them (so
//! `sum(${age})` works at the top and `${age}` works beside it in the same instance).
//! Not-relevant answers read as empty and are submitted empty, but stay in the draft so that
//! an answer reappears if its question becomes relevant again. Choice filters are evaluated
//! per choice, with the choice's columns readable by name (`province = ${province}`).
//!
//! **Checks.** [`Engine::check`] reports, for a page or the whole form, every relevant
//! question that is required and empty, whose answer is not of its type (the same reader as
//! ingestion, `baraza_openrosa::read_value`), not in its filtered choices, or breaks its
//! constraint — with the form's own message in the chosen language when it has one.
//!
//! **Pages.** Each top-level group or repeat is a page; top-level questions that follow each
//! other share a page ([`Engine::pages`]). [`Engine::widgets`] describes what a page shows,
//! for a template; [`Engine::apply`] takes a post back, answering only the questions the page
//! listed in its hidden `_f` fields. [`Engine::review`] lists every relevant answer.
//!
//! **Output.** [`Engine::to_xml`] writes the submission as ODK Collect would, element for
//! element in the form's instance order, so that it goes through the same ingestion as a
//! phone's submission (parsing, typing, never losing or duplicating).
//!
//! **Limits.** `pulldata()`, `instance()` paths and `select_one_external` lists are not
//! evaluated in the browser (the first two evaluate to empty; the last is a text input).

pub mod engine;
pub mod import;
pub mod index;
pub mod nav;
pub mod post;
pub mod record;
pub mod view;
pub mod xml;

pub use engine::{
    choices_from_csv, pick_language, string_of, Engine, Env, Problem, ProblemKind, Relevance,
    MAX_ANSWER_CHARS, MAX_INSTANCES,
};
pub use index::{Def, Index, Item};
pub use nav::{Action, At, Notice, Step};
pub use record::{FileRef, Filling, Record};
pub use view::{ChoiceView, Control, Instance, ProblemView, ReviewLine, Widget};
pub use xml::Meta;
