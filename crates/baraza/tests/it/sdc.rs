//! `baraza sdc risk`: a data officer checks a file before sharing it, with no server.

use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_baraza");

/// The sample of sdcMicro's tests/testthat/test_indivRisk.R ("with missing", weighted), with a
/// household and a sensitive column added. sdcMicro's expected individual risks (approx) are
/// in `RISKS`; with missing values matching any category, fk = 3 1 4 2 3 3 1 5.
const SAMPLE: &str = "\
A,B,C,weight,hh,health
2,3,1,18,h1,malaria
3,3,3,45.5,h1,none
2,3,NA,39,h2,none
2,3,2,17,h2,malaria
3,3,1,92,h3,none
3,3,1,8,h3,none
1,4,,123.5,h4,tb
NA,3,1,51,h5,none
";

const RISKS: [f64; 8] = [
    0.013698630,
    0.085791288,
    0.010554090,
    0.032466112,
    0.009836066,
    0.009836066,
    0.039316254,
    0.005973716,
];

fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baraza-sdc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&str], path: &PathBuf) -> Output {
    Command::new(BIN)
        .args(["sdc", "risk"])
        .arg(path)
        .args(args)
        .env_remove("BARAZA_DATABASE_URL")
        .output()
        .unwrap()
}

/// The value of a line of the summary, after its label.
fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix(label)
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default()
}

const KEYS: &[&str] = &["--keys", "A,B,C", "--weight", "weight"];

#[test]
fn json_gives_sdcmicros_risks() {
    let path = file("sample.csv", SAMPLE);
    let mut args = KEYS.to_vec();
    args.extend(["--household", "hh", "--sensitive", "health", "--json"]);
    let out = run(&args, &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &v["assessment"];
    let records = a["per_record"].as_array().unwrap();
    let fk: Vec<u64> = records.iter().map(|r| r["fk"].as_u64().unwrap()).collect();
    assert_eq!(fk, vec![3, 1, 4, 2, 3, 3, 1, 5]);
    for (i, (r, want)) in records.iter().zip(RISKS).enumerate() {
        let got = r["risk"].as_f64().unwrap();
        assert!(
            (got - want).abs() < 5e-9,
            "record {}: {got} vs {want}",
            i + 1
        );
    }
    // The sum of the risks, and the records with fk below 2, 3 and 5.
    let er = a["global"]["expected_reidentifications"].as_f64().unwrap();
    assert!((er - RISKS.iter().sum::<f64>()).abs() < 1e-8, "{er}");
    let violations: Vec<u64> = a["k_anonymity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["records"].as_u64().unwrap())
        .collect();
    assert_eq!(violations, vec![2, 3, 7]);
    // Household h1: 1 − (1 − r1)(1 − r2).
    let h1 = 1.0 - (1.0 - RISKS[0]) * (1.0 - RISKS[1]);
    assert!((records[1]["household_risk"].as_f64().unwrap() - h1).abs() < 1e-8);
    assert_eq!(a["l_diversity"][0]["variable"], "health");
    assert_eq!(a["suda"]["max_size"], 3);
}

#[test]
fn human_output_summarises() {
    let path = file("human.csv", SAMPLE);
    let out = run(KEYS, &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // 0.20747… expected re-identifications among 8 records: 2.59%.
    assert_eq!(
        field(&text, "global risk"),
        "2.59% (0.21 expected re-identifications)",
        "{text}"
    );
    assert!(
        field(&text, "below 2-anonymity").starts_with("2 records (25.00%)"),
        "{text}"
    );
    assert!(
        field(&text, "below 5-anonymity").starts_with("7 records (87.50%)"),
        "{text}"
    );
    assert!(
        field(&text, "records").starts_with("8 (3 with a missing key"),
        "{text}"
    );
    // As a category, a missing value matches only itself: 6 records are unique.
    let mut args = KEYS.to_vec();
    args.extend(["--missing", "category"]);
    let text = String::from_utf8(run(&args, &path).stdout).unwrap();
    assert!(
        field(&text, "below 2-anonymity").starts_with("6 records"),
        "{text}"
    );
}

#[test]
fn bad_input_exits_2_naming_file_row_and_column() {
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "unknown.csv",
            SAMPLE,
            &["--keys", "A,age"],
            &[
                "unknown.csv",
                "no column \"age\"",
                "A, B, C, weight, hh, health",
            ],
        ),
        (
            "weight.csv",
            "A,w\nx,1\ny,2\nz,two\n",
            &["--keys", "A", "--weight", "w"],
            &["weight.csv", "row 4", "\"w\"", "\"two\" is not a number"],
        ),
        (
            "negative.csv",
            "A,w\nx,-1\n",
            &["--keys", "A", "--weight", "w"],
            &["row 2", "greater than 0"],
        ),
        (
            "noweight.csv",
            "A,w\nx,1\ny,NA\n",
            &["--keys", "A", "--weight", "w"],
            &["row 3", "weight in \"w\" is missing"],
        ),
        (
            "empty.csv",
            "",
            &["--keys", "A"],
            &["empty.csv", "the file is empty"],
        ),
        (
            "header.csv",
            "A,B\n",
            &["--keys", "A"],
            &["header.csv", "no records"],
        ),
        (
            "ragged.csv",
            "A,B\nx,y\nx\n",
            &["--keys", "A"],
            &["row 3", "1 fields where the header has 2"],
        ),
        (
            "k.csv",
            "A\nx\n",
            &["--keys", "A", "--k", "0,2"],
            &["k = 0"],
        ),
    ];
    for (name, text, args, needles) in cases {
        let path = file(name, text);
        let out = run(args, &path);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        for needle in *needles {
            assert!(err.contains(needle), "{name}: {needle:?} not in {err}");
        }
    }
    let out = run(
        &["--keys", "A"],
        &std::env::temp_dir().join("baraza-sdc-none.csv"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open the file"));
}
