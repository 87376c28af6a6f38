//! The life of a report under moderation.
//!
//! ```text
//!              ┌──────────► published ──► archived
//! in_review ───┤               ▲
//!    ▲  │      └─► verified ───┘ (and verified ──► archived)
//!    │  └───────────────► rejected
//!    └──────────────────────┘ (reopened)
//! ```
//!
//! A report arrives `in_review`. A moderator verifies it (checked, not public), publishes it
//! (public, verified or not) or rejects it. Published and verified reports are archived when
//! they no longer concern anyone; archived reports stay archived. A rejected report may be
//! reopened for review, and a verified one sent back to review. Only `published` reports are
//! seen by the public.

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    InReview,
    Verified,
    Published,
    Archived,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a report cannot go from `{}` to `{}`; from `{}` it can go to {}", .from.code(), .to.code(), .from.code(), allowed_list(*.from))]
pub struct TransitionError {
    pub from: State,
    pub to: State,
}

fn allowed_list(from: State) -> String {
    let next = from.next();
    if next.is_empty() {
        "nothing else".to_owned()
    } else {
        next.iter()
            .map(|s| format!("`{}`", s.code()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl State {
    pub const ALL: [State; 5] = [
        State::InReview,
        State::Verified,
        State::Published,
        State::Archived,
        State::Rejected,
    ];

    /// The stable code stored and shown in URLs.
    pub fn code(self) -> &'static str {
        match self {
            State::InReview => "in_review",
            State::Verified => "verified",
            State::Published => "published",
            State::Archived => "archived",
            State::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The states a report in this state may move to.
    pub fn next(self) -> &'static [State] {
        match self {
            State::InReview => &[State::Verified, State::Published, State::Rejected],
            State::Verified => &[
                State::Published,
                State::Archived,
                State::Rejected,
                State::InReview,
            ],
            State::Published => &[State::Archived],
            State::Rejected => &[State::InReview],
            State::Archived => &[],
        }
    }

    /// Whether the public sees reports in this state.
    pub fn is_public(self) -> bool {
        self == State::Published
    }
}

/// Checks the move `from` → `to`.
pub fn transition(from: State, to: State) -> Result<State, TransitionError> {
    if from.next().contains(&to) {
        Ok(to)
    } else {
        Err(TransitionError { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowed_transitions_and_only_them() {
        let allowed = [
            ("in_review", "verified"),
            ("in_review", "published"),
            ("in_review", "rejected"),
            ("verified", "published"),
            ("verified", "archived"),
            ("verified", "rejected"),
            ("verified", "in_review"),
            ("published", "archived"),
            ("rejected", "in_review"),
        ];
        let mut count = 0;
        for from in State::ALL {
            for to in State::ALL {
                let ok = allowed.contains(&(from.code(), to.code()));
                assert_eq!(transition(from, to).is_ok(), ok, "{from:?} -> {to:?}");
                count += usize::from(ok);
            }
        }
        assert_eq!(count, allowed.len());
    }

    #[test]
    fn a_forbidden_move_says_what_is_possible() {
        let e = transition(State::Published, State::InReview).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a report cannot go from `published` to `in_review`; from `published` it can go to `archived`"
        );
        let e = transition(State::Archived, State::Published).unwrap_err();
        assert!(e.to_string().ends_with("it can go to nothing else"));
        assert!(transition(State::InReview, State::InReview).is_err());
    }

    #[test]
    fn codes_round_trip_and_only_published_is_public() {
        for s in State::ALL {
            assert_eq!(State::from_code(s.code()), Some(s));
            assert_eq!(s.is_public(), s == State::Published);
        }
        assert_eq!(State::from_code("deleted"), None);
    }
}
