//! Submissions built field by field against the real forms: the fuzzer chooses which form
//! (and often its real id, root and version), which paths (mostly the forms' own, with repeat
//! indexes and stray segments) and any text as values. Typing must never panic, must refuse
//! with at least one error, or give values with the properties it promises.
//!
//! Input layout: byte 0 chooses the form and how well the identity matches; the rest is split
//! at 0x00 into (path, value) pairs, where a path that starts with a byte below 0x20 names
//! a known path (by that byte and the next) and may go on with more segments.
#![no_main]

use baraza_fuzz::{check_typed, forms, known_paths};
use baraza_openrosa::{Submission, Value};
use libfuzzer_sys::fuzz_target;

fn path(raw: &[u8]) -> String {
    let known = known_paths();
    match raw.first() {
        Some(&b) if b < 0x20 && !known.is_empty() => {
            let i = (usize::from(b) << 8 | usize::from(raw.get(1).copied().unwrap_or(0)))
                % known.len();
            let rest = raw.get(2..).unwrap_or_default();
            format!("{}{}", known[i], String::from_utf8_lossy(rest))
        }
        _ => String::from_utf8_lossy(raw).into_owned(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let all = forms();
    let form = &all[usize::from(head & 1) % all.len()];
    let exact = head & 0b110 != 0b110;
    let mut fields = rest.split(|b| *b == 0);
    let mut values = Vec::new();
    while let (Some(p), Some(v)) = (fields.next(), fields.next()) {
        values.push(Value {
            path: path(p),
            value: String::from_utf8_lossy(v).into_owned(),
        });
    }
    let sub = Submission {
        root: if exact { form.root.clone() } else { "data".into() },
        form_id: if exact { form.id.clone() } else { "other".into() },
        version: if head & 0b1000 == 0 {
            form.version.clone()
        } else {
            None
        },
        instance_id: "uuid:fuzz".into(),
        deprecated_id: None,
        instance_name: None,
        values,
    };
    match baraza_openrosa::type_values(form, &sub) {
        Ok(typed) => {
            assert!(exact, "a submission for another form was accepted");
            check_typed(&typed)
        }
        Err(errors) => assert!(!errors.is_empty()),
    }
});
