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

/// 60 people of 6 villages in 2 districts, ages 18 to 77, weights of 50: nearly every record is
/// unique on (age, sex, village), and the name would leave.
fn survey() -> String {
    let villages = [
        "Kibera",
        "Kawangware",
        "Mathare",
        "Likoni",
        "Nyali",
        "Bamburi",
    ];
    let mut s = String::from("name,age,sex,village,weight,health\n");
    for i in 0..60 {
        let age = 18 + (i * 7) % 60;
        let sex = ["f", "m"][i % 2];
        let village = villages[(i * 5) % 6];
        let health = ["none", "malaria", "tb"][i % 3];
        s.push_str(&format!("Person {i},{age},{sex},{village},50,{health}\n"));
    }
    s
}

const RECIPE: &str = r#"
keys = ["age", "sex", "village"]
weight = "weight"
drop = ["name"]

[[steps]]
recode = { variable = "age", method = "intervals", breaks = [30, 45, 60] }

[[steps]]
recode = { variable = "village", method = "merge", map = { Kibera = "Nairobi", Kawangware = "Nairobi", Mathare = "Nairobi", Likoni = "Mombasa", Nyali = "Mombasa", Bamburi = "Mombasa" } }

[[steps]]
suppress = { k = 3, importance = ["village", "age"] }
"#;

const POLICY: &str = "withheld = [\"name\", \"phone\"]\n";

fn release(data: &PathBuf, recipe: &PathBuf, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["sdc", "release"])
        .arg(data)
        .arg("--recipe")
        .arg(recipe)
        .args(extra)
        .env_remove("BARAZA_DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn release_writes_a_file_that_passes_the_policy() {
    let data = file("survey.csv", &survey());
    let recipe = file("recipe.toml", RECIPE);
    let policy = file("policy.toml", POLICY);
    let out = data.with_file_name("released.csv");
    let report = data.with_file_name("report.json");
    let _ = std::fs::remove_file(&out);
    let o = release(
        &data,
        &recipe,
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    // The name is dropped; the other columns keep their order.
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, ["age", "sex", "village", "weight", "health"]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 60);
    // Person 0: 18, f, Kibera → < 30, f, Nairobi (or blanked by the suppression).
    let ages = ["< 30", "[30,45)", "[45,60)", "≥ 60", ""];
    let districts = ["Nairobi", "Mombasa", ""];
    for r in &rows {
        assert!(ages.contains(&r[0].as_str()), "{r:?}");
        assert!(districts.contains(&r[2].as_str()), "{r:?}");
        assert_eq!(r[3], "50");
    }
    let blanks = rows
        .iter()
        .map(|r| r[..3].iter().filter(|v| v.is_empty()).count())
        .sum::<usize>();
    // k ≥ 3 recomputed on the released file by `baraza sdc risk`.
    let risk = run(
        &["--keys", "age,sex,village", "--weight", "weight", "--json"],
        &out,
    );
    assert!(
        risk.status.success(),
        "{}",
        String::from_utf8_lossy(&risk.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&risk.stdout).unwrap();
    let k3 = v["assessment"]["k_anonymity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["k"] == 3)
        .unwrap()
        .clone();
    assert_eq!(k3["records"], 0);
    let percent = v["assessment"]["global"]["percent"].as_f64().unwrap();
    assert!(percent < 3.0, "{percent}");
    // The report: figures before and after, every step, the verdict and the policy.
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["verdict"]["passed"], true);
    assert_eq!(r["records"], 60);
    assert_eq!(r["dropped"], serde_json::json!(["name"]));
    let methods: Vec<&str> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["recode_intervals", "recode_merge", "suppress"]);
    let below = |risk: &serde_json::Value| {
        risk["k_anonymity"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["k"] == 3)
            .unwrap()["records"]
            .as_u64()
            .unwrap()
    };
    assert!(below(&r["risk_before"]) > 0);
    assert_eq!(below(&r["risk_after"]), 0);
    assert!(r["risk_before"]["global_risk_percent"].as_f64().unwrap() >= 3.0);
    let after = r["risk_after"]["global_risk_percent"].as_f64().unwrap();
    assert!((after - percent).abs() < 1e-9, "{after} vs {percent}");
    assert_eq!(r["loss"]["suppressed"].as_u64().unwrap() as usize, blanks);
    assert_eq!(r["policy"]["k"], 3);
    assert_eq!(
        r["policy"]["withheld"],
        serde_json::json!(["name", "phone"])
    );
}

#[test]
fn release_refused_by_the_policy_exits_3_and_writes_nothing() {
    let data = file("refused.csv", &survey());
    // Only the first recoding: still unique records, and the name is kept.
    let recipe = file(
        "refused.toml",
        &RECIPE
            .split("\n[[steps]]\nrecode = { variable = \"village\"")
            .next()
            .unwrap()
            .replace("drop = [\"name\"]\n", ""),
    );
    let policy = file("refused-policy.toml", POLICY);
    let out = data.with_file_name("refused-out.csv");
    let report = data.with_file_name("refused-report.json");
    let _ = std::fs::remove_file(&out);
    let o = release(
        &data,
        &recipe,
        &[
            "--policy",
            policy.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(!out.exists() && !report.exists());
    assert!(err.contains("records below k = 3 (must be 0)"), "{err}");
    assert!(err.contains("variable_withheld: \"name\""), "{err}");
}

#[test]
fn release_with_a_bad_recipe_exits_2_naming_the_problem() {
    let data = file("bad.csv", &survey());
    let cases = [
        (
            "unknown.toml",
            RECIPE.replace("variable = \"village\"", "variable = \"district\""),
            vec![
                "unknown.toml",
                "step 2 (recode_merge)",
                "no key variable \"district\"",
            ],
        ),
        (
            "nocolumn.toml",
            RECIPE.replace("\"sex\", \"village\"]", "\"gender\", \"village\"]"),
            vec!["no column \"gender\""],
        ),
        (
            "syntax.toml",
            RECIPE.replace("k = 3,", "k = ,"),
            vec!["syntax.toml", "cannot be read", "line 13"],
        ),
    ];
    for (name, text, needles) in cases {
        let recipe = file(name, &text);
        let out = data.with_file_name(format!("{name}.csv"));
        let o = release(&data, &recipe, &["--output", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(!out.exists(), "{name}");
        for n in needles {
            assert!(err.contains(n), "{name}: {n:?} not in {err}");
        }
    }
}
