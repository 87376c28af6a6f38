//! A project's disclosure policy, and its verdict on an assessed table.
//!
//! A [`Policy`] is plain data (serde, every field optional in a file): by default k ≥ 3 on the
//! chosen keys and a global risk under 3 % (HDX's threshold for publishing microdata). It also
//! names the variables that must not leave — direct identifiers, fields marked personal or
//! sensitive — unless it allows them by name, and the keys the risk must be measured on (so
//! that a recipe cannot pass by choosing easy keys).
//!
//! [`evaluate`] checks an [`Assessment`] and the columns that would leave against it and
//! returns a [`Verdict`]: every check with what the policy requires and what was found, as
//! figures and stable codes (callers render them in French or English).

use crate::Assessment;
use serde::{Deserialize, Serialize};

/// What a table must satisfy to leave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Every record must share its keys with at least `k − 1` others (`fk ≥ k`).
    pub k: u32,
    /// The global risk (expected re-identifications as a share of the records, in percent)
    /// must be under this.
    pub max_global_risk_percent: f64,
    /// Variables that must not leave: direct identifiers, personal and sensitive fields.
    pub withheld: Vec<String>,
    /// Variables of `withheld` that may leave all the same.
    pub allowed: Vec<String>,
    /// Keys the risk must be measured on.
    pub required_keys: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            k: 3,
            max_global_risk_percent: 3.0,
            withheld: Vec::new(),
            allowed: Vec::new(),
            required_keys: Vec::new(),
        }
    }
}

/// The rules a policy checks, by stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Records with `fk < k`: `required` is 0, `found` the records below k.
    KAnonymity,
    /// The global risk in percent: `found` must be under `required`.
    GlobalRisk,
    /// A withheld variable among the columns that leave: `required` 0, `found` 1 when present.
    VariableWithheld,
    /// A required key among the keys assessed: `required` 1, `found` 1 when it is.
    KeyAssessed,
}

/// One check of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub rule: Rule,
    /// The k of a `k_anonymity` check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    /// The variable of a `variable_withheld` or `key_assessed` check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// What the policy requires, in the rule's unit (see [`Rule`]).
    pub required: f64,
    /// What was found; `None` when the assessment did not measure it (the check fails).
    pub found: Option<f64>,
    pub passed: bool,
}

/// The policy's decision: passed when every check passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    pub checks: Vec<Check>,
}

impl Verdict {
    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

/// Checks `assessment` (which must have counted violations of `policy.k`) and the `columns`
/// that would leave against `policy`.
pub fn evaluate(assessment: &Assessment, policy: &Policy, columns: &[String]) -> Verdict {
    let mut checks = Vec::new();
    let below = assessment
        .k_anonymity
        .iter()
        .find(|x| x.k == policy.k)
        .map(|x| x.records as f64);
    checks.push(Check {
        rule: Rule::KAnonymity,
        k: Some(policy.k),
        variable: None,
        required: 0.0,
        found: below,
        passed: below == Some(0.0),
    });
    let percent = assessment.global.percent;
    checks.push(Check {
        rule: Rule::GlobalRisk,
        k: None,
        variable: None,
        required: policy.max_global_risk_percent,
        found: Some(percent),
        passed: percent < policy.max_global_risk_percent,
    });
    for v in &policy.withheld {
        if policy.allowed.contains(v) {
            continue;
        }
        let present = columns.contains(v);
        checks.push(Check {
            rule: Rule::VariableWithheld,
            k: None,
            variable: Some(v.clone()),
            required: 0.0,
            found: Some(if present { 1.0 } else { 0.0 }),
            passed: !present,
        });
    }
    for v in &policy.required_keys {
        let assessed = assessment.keys.contains(v);
        checks.push(Check {
            rule: Rule::KeyAssessed,
            k: None,
            variable: Some(v.clone()),
            required: 1.0,
            found: Some(if assessed { 1.0 } else { 0.0 }),
            passed: assessed,
        });
    }
    Verdict {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::table;
    use crate::{assess, Options};

    #[test]
    fn checks() {
        let (a, b) = (Some("a"), Some("b"));
        // k0: a a a b: fk 3 3 3 1; unweighted risks 1/3 ×3 + 1 = 2 expected, 50 %.
        let t = table(&[&[a], &[a], &[a], &[b]], None);
        let a3 = assess(&t, &Options::default()).unwrap();
        let cols = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // (name, policy, columns, passed, (rule, found, passed) per check)
        type Case<'a> = (
            &'a str,
            Policy,
            Vec<String>,
            bool,
            Vec<(Rule, Option<f64>, bool)>,
        );
        let cases: Vec<Case> = vec![
            (
                "the default fails on k and risk",
                Policy::default(),
                cols(&["k0"]),
                false,
                vec![
                    (Rule::KAnonymity, Some(1.0), false),
                    (Rule::GlobalRisk, Some(50.0), false),
                ],
            ),
            (
                "k = 1 and 60 % pass",
                Policy {
                    k: 1,
                    max_global_risk_percent: 60.0,
                    ..Policy::default()
                },
                cols(&["k0"]),
                false,
                // k = 1 was not counted by the default options (2, 3, 5): not measured, fails.
                vec![
                    (Rule::KAnonymity, None, false),
                    (Rule::GlobalRisk, Some(50.0), true),
                ],
            ),
            (
                "k = 2, withheld name present, phone allowed, key k0 assessed, k9 not",
                Policy {
                    k: 2,
                    max_global_risk_percent: 50.0,
                    withheld: vec!["name".into(), "phone".into(), "email".into()],
                    allowed: vec!["phone".into()],
                    required_keys: vec!["k0".into(), "k9".into()],
                },
                cols(&["k0", "name", "phone"]),
                false,
                vec![
                    (Rule::KAnonymity, Some(1.0), false),
                    // 50 is not under 50.
                    (Rule::GlobalRisk, Some(50.0), false),
                    (Rule::VariableWithheld, Some(1.0), false),
                    (Rule::VariableWithheld, Some(0.0), true),
                    (Rule::KeyAssessed, Some(1.0), true),
                    (Rule::KeyAssessed, Some(0.0), false),
                ],
            ),
        ];
        for (name, policy, columns, passed, want) in cases {
            let v = evaluate(&a3, &policy, &columns);
            assert_eq!(v.passed, passed, "{name}");
            let got: Vec<(Rule, Option<f64>, bool)> = v
                .checks
                .iter()
                .map(|c| (c.rule, c.found.map(|f| (f * 1e9).round() / 1e9), c.passed))
                .collect();
            assert_eq!(got, want, "{name}");
        }
        // A table of four alike passes the default k but not the risk (1/4 each: 25 %).
        let t = table(&[&[a], &[a], &[a], &[a]], None);
        let v = evaluate(
            &assess(&t, &Options::default()).unwrap(),
            &Policy::default(),
            &cols(&["k0"]),
        );
        assert!(v.checks[0].passed && !v.checks[1].passed && !v.passed);
    }

    #[test]
    fn a_policy_file_may_give_only_some_fields() {
        let p: Policy = toml::from_str("withheld = [\"name\"]\n").unwrap();
        assert_eq!(p.k, 3);
        assert_eq!(p.max_global_risk_percent, 3.0);
        assert_eq!(p.withheld, vec!["name".to_owned()]);
        assert!(toml::from_str::<Policy>("kk = 3\n").is_err());
    }
}
