//! Any bytes as a submission's XML: the parser must never panic nor hang, and whatever it
//! accepts must have the shape it promises (paths inside the root, well-formed and unique, no
//! character XML forbids). Accepted submissions are then typed against the real forms, as the
//! server does.
#![no_main]

use baraza_fuzz::{check_parsed, check_typed, forms};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = baraza_openrosa::Limits::default();
    let Ok(sub) = baraza_openrosa::parse_submission(data, &limits) else {
        return;
    };
    check_parsed(&sub);
    for form in forms() {
        match baraza_openrosa::type_values(form, &sub) {
            Ok(values) => check_typed(&values),
            Err(errors) => assert!(!errors.is_empty()),
        }
    }
});
