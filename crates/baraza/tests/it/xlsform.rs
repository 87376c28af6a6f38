//! `baraza xlsform`: offline compilation, as a data officer runs it before uploading.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_baraza");

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../baraza-xlsform/tests/fixtures")
        .join(name)
}

#[test]
fn compiles_a_workbook_to_an_xform_file() {
    let out = std::env::temp_dir().join(format!("baraza-xf-{}.xml", std::process::id()));
    let run = Command::new(BIN)
        .args(["xlsform"])
        .arg(fixture("household.xlsx"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let xml = std::fs::read_to_string(&out).unwrap();
    assert!(xml.contains("<data id=\"hh_water\""), "{xml}");
    let _ = std::fs::remove_file(out);
}

#[test]
fn broken_forms_exit_1_with_every_problem_located() {
    let dir = std::env::temp_dir().join(format!("baraza-xf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let form = dir.join("broken.md");
    std::fs::write(
        &form,
        "| survey | | | |\n| | type | name | label |\n| | txet | a | A |\n| | integer | a | B |\n| | select_one nope | c | C |\n",
    )
    .unwrap();
    let run = Command::new(BIN)
        .arg("xlsform")
        .arg(&form)
        .args(["--lang", "fr"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("erreur [type_unknown] feuille survey, ligne 2, colonne type: type de question inconnu txet"), "{err}");
    assert!(
        err.contains("[choices_list_missing]") && err.contains("ligne 4"),
        "{err}"
    );
    assert!(run.stdout.is_empty(), "no XForm for a broken form");

    let run = Command::new(BIN)
        .arg("xlsform")
        .arg(&form)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(
        (
            d["code"].as_str(),
            d["sheet"].as_str(),
            d["row"].as_u64(),
            d["column"].as_str()
        ),
        (Some("type_unknown"), Some("survey"), Some(2), Some("type"))
    );
    assert!(d["message_fr"]
        .as_str()
        .unwrap()
        .starts_with("type de question inconnu"));
    let _ = std::fs::remove_dir_all(dir);
}
