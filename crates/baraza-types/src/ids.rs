//! Typed identifiers, so that a user id can never be passed where a project id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A person with an account.
    UserId
);
id_type!(
    /// An organisation (an NGO, a network, a newsroom) that owns projects.
    OrgId
);
id_type!(
    /// A project: one body of work (a survey campaign, a reporting network) with its own people.
    ProjectId
);
id_type!(
    /// An API token.
    TokenId
);
