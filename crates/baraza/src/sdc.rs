//! `baraza sdc risk`: the disclosure risk of a CSV file, offline (no server, configuration or
//! database). The file is read here; the measures are `baraza-sdc`'s.

use baraza_sdc::{Assessment, MissingMode, Options, Row, TableBuilder};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What `baraza sdc risk` was asked.
#[derive(Debug, Clone)]
pub struct RiskArgs {
    pub file: PathBuf,
    pub keys: Vec<String>,
    pub weight: Option<String>,
    pub household: Option<String>,
    pub sensitive: Vec<String>,
    pub missing: MissingMode,
    /// Cell texts that mean "missing" (compared after trimming spaces).
    pub missing_values: Vec<String>,
    pub k: Vec<u32>,
    pub suda_max_size: usize,
    pub json: bool,
}

/// A problem with the input: the file, a column or a row. `baraza sdc risk` exits with 2.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// Reads the file, measures, and returns what to print.
pub fn risk(args: &RiskArgs) -> Result<String, InputError> {
    let assessment = assess_file(args)?;
    if args.json {
        let value = serde_json::json!({
            "file": args.file.display().to_string(),
            "assessment": assessment,
        });
        return Ok(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n");
    }
    Ok(human(&args.file, &assessment))
}

/// Reads the CSV file into a key table and assesses it.
pub fn assess_file(args: &RiskArgs) -> Result<Assessment, InputError> {
    let path = &args.file;
    let shown = path.display();
    let err = |m: String| InputError(format!("{shown}: {m}"));
    let file = std::fs::File::open(path)
        .map_err(|e| err(format!("cannot open the file ({e}): check its name")))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(std::io::BufReader::new(file));
    let headers = reader
        .headers()
        .map_err(|e| err(format!("cannot read the header row ({e})")))?
        .clone();
    if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
        return Err(err(
            "the file is empty: give a CSV file with a header row naming its columns".into(),
        ));
    }
    let column = |name: &str, role: &str| -> Result<usize, InputError> {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = headers.iter().map(str::trim).collect();
                err(format!(
                    "no column {name:?} for the {role}: the columns are {}",
                    names.join(", ")
                ))
            })
    };
    let keys: Vec<usize> = args
        .keys
        .iter()
        .map(|k| column(k, "key variable"))
        .collect::<Result<_, _>>()?;
    let weight = args
        .weight
        .as_deref()
        .map(|w| column(w, "weight"))
        .transpose()?;
    let household = args
        .household
        .as_deref()
        .map(|h| column(h, "household id"))
        .transpose()?;
    let sensitive: Vec<usize> = args
        .sensitive
        .iter()
        .map(|s| column(s, "sensitive variable"))
        .collect::<Result<_, _>>()?;
    let key_names: Vec<&str> = args.keys.iter().map(String::as_str).collect();
    let sensitive_names: Vec<&str> = args.sensitive.iter().map(String::as_str).collect();
    let mut builder = TableBuilder::new(
        &key_names,
        args.weight.as_deref(),
        args.household.as_deref(),
        &sensitive_names,
    )
    .map_err(|e| err(e.to_string()))?;
    let is_missing = |v: &str| args.missing_values.iter().any(|m| m == v);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(err(format!(
                    "row {line}: {}",
                    match e.kind() {
                        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
                            "{len} fields where the header has {expected_len}: check the separators and quotes of that line"
                        ),
                        csv::ErrorKind::Utf8 { .. } =>
                            "not valid UTF-8: save the file as UTF-8".to_owned(),
                        _ => e.to_string(),
                    }
                )));
            }
        }
        let line = record.position().map_or(0, |p| p.line()) as usize;
        let cell = |i: usize| -> Option<&str> {
            let v = record.get(i).unwrap_or("").trim();
            (!is_missing(v)).then_some(v)
        };
        let key_values: Vec<Option<&str>> = keys.iter().map(|&i| cell(i)).collect();
        let sensitive_values: Vec<Option<&str>> = sensitive.iter().map(|&i| cell(i)).collect();
        let w = match weight {
            None => None,
            Some(i) => match cell(i) {
                None => None,
                Some(text) => Some(text.parse::<f64>().map_err(|_| {
                    err(format!(
                        "row {line}, column {:?}: the weight {text:?} is not a number",
                        args.weight.as_deref().unwrap_or_default()
                    ))
                })?),
            },
        };
        builder
            .push(Row {
                number: line,
                keys: &key_values,
                weight: w,
                household: household.and_then(&cell),
                sensitive: &sensitive_values,
            })
            .map_err(|e| err(e.to_string()))?;
    }
    let table = builder.finish().map_err(|e| err(e.to_string()))?;
    let options = Options {
        missing: args.missing,
        k: args.k.clone(),
        suda_max_size: Some(args.suda_max_size),
        per_record: args.json,
        ..Options::default()
    };
    baraza_sdc::assess(&table, &options).map_err(|e| err(e.to_string()))
}

/// One line of the summary: a label in a column, its value.
fn field(s: &mut String, label: &str, value: std::fmt::Arguments<'_>) {
    let _ = writeln!(s, "  {label:<30}{value}");
}

fn human(file: &Path, a: &Assessment) -> String {
    let mut s = String::new();
    let missing = match a.missing {
        MissingMode::Any => "a missing value matches any category",
        MissingMode::Category => "a missing value is a category of its own",
    };
    let _ = writeln!(s, "Disclosure risk of {}", file.display());
    field(
        &mut s,
        "records",
        format_args!(
            "{} ({} with a missing key; {} key combinations)",
            a.records, a.records_with_missing_keys, a.combinations
        ),
    );
    field(
        &mut s,
        "keys",
        format_args!("{} ({missing})", a.keys.join(", ")),
    );
    match &a.weight {
        Some(w) => field(
            &mut s,
            "weights",
            format_args!("{w} (a sample: Benedetti–Franconi individual risk)"),
        ),
        None => field(
            &mut s,
            "weights",
            format_args!("none (the file is the whole population: risk = 1/fk)"),
        ),
    }
    for k in &a.k_anonymity {
        field(
            &mut s,
            &format!("below {}-anonymity", k.k),
            format_args!(
                "{} records ({:.2}%) in {} combinations",
                k.records,
                100.0 * k.records as f64 / a.records.max(1) as f64,
                k.combinations
            ),
        );
    }
    field(
        &mut s,
        "global risk",
        format_args!(
            "{:.2}% ({:.2} expected re-identifications)",
            a.global.percent, a.global.expected_reidentifications
        ),
    );
    field(
        &mut s,
        "high-risk records",
        format_args!(
            "{} (risk above 0.1 and far above the median)",
            a.global.high_risk_records
        ),
    );
    if let Some(h) = &a.household {
        field(
            &mut s,
            &format!("household risk ({})", h.variable),
            format_args!(
                "{:.2}% ({:.2} expected re-identifications, {} households)",
                h.percent, h.expected_reidentifications, h.households
            ),
        );
    }
    for l in &a.l_diversity {
        field(
            &mut s,
            &format!("l-diversity of {}", l.variable),
            format_args!(
                "distinct {}, entropy {:.2}, recursive (c = {}) {}; {} records in classes where it is always the same",
                l.min_distinct, l.min_entropy, l.c, l.min_recursive, l.records_in_uniform_classes
            ),
        );
    }
    if let Some(su) = &a.suda {
        let sizes: Vec<String> = su
            .msus_by_size
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{n} of {} key{}", i + 1, if i == 0 { "" } else { "s" }))
            .collect();
        field(
            &mut s,
            &format!("SUDA (up to {} keys)", su.max_size),
            format_args!(
                "{} special uniques among {} sample uniques; MSUs: {}; highest DIS-SUDA {:.4}",
                su.special_uniques,
                su.sample_uniques,
                sizes.join(", "),
                su.max_dis_score
            ),
        );
    }
    if !a.riskiest.is_empty() {
        let _ = writeln!(
            s,
            "\nRiskiest key combinations ({} shown; --json gives every record):",
            a.riskiest.len()
        );
        let _ = writeln!(
            s,
            "  {:>7}  {:>6}  {:>10}  {}",
            "risk",
            "fk",
            "Fk",
            a.keys.join(" | ")
        );
        for c in &a.riskiest {
            let values: Vec<&str> = c
                .values
                .iter()
                .map(|v| v.as_deref().unwrap_or("(missing)"))
                .collect();
            let _ = writeln!(
                s,
                "  {:>7.4}  {:>6}  {:>10.1}  {}",
                c.risk,
                c.fk,
                c.big_fk,
                values.join(" | ")
            );
        }
    }
    s
}
