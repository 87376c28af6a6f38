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

/// A CSV file whose header row has been read.
struct CsvFile {
    path: PathBuf,
    reader: csv::Reader<std::io::BufReader<std::fs::File>>,
    headers: csv::StringRecord,
}

impl CsvFile {
    fn open(path: &Path) -> Result<Self, InputError> {
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
        Ok(CsvFile {
            path: path.to_owned(),
            reader,
            headers,
        })
    }

    fn err(&self, m: String) -> InputError {
        InputError(format!("{}: {m}", self.path.display()))
    }

    /// The column names, trimmed.
    fn names(&self) -> Vec<&str> {
        self.headers.iter().map(str::trim).collect()
    }

    fn column(&self, name: &str, role: &str) -> Result<usize, InputError> {
        self.names().iter().position(|h| *h == name).ok_or_else(|| {
            self.err(format!(
                "no column {name:?} for the {role}: the columns are {}",
                self.names().join(", ")
            ))
        })
    }

    /// Calls `each` with every record's line (the header is line 1) and the record.
    fn each(
        mut self,
        mut each: impl FnMut(&Self, usize, &csv::StringRecord) -> Result<(), InputError>,
    ) -> Result<(), InputError> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(self.err(format!(
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
            each(&self, line, &record)?;
        }
    }
}

/// Cell `i` of `record`, trimmed; `None` when it is one of the texts meaning missing.
fn cell<'r>(record: &'r csv::StringRecord, i: usize, missing_values: &[String]) -> Option<&'r str> {
    let v = record.get(i).unwrap_or("").trim();
    (!missing_values.iter().any(|m| m == v)).then_some(v)
}

/// Reads the CSV file into a key table and assesses it.
pub fn assess_file(args: &RiskArgs) -> Result<Assessment, InputError> {
    let csv = CsvFile::open(&args.file)?;
    let keys: Vec<usize> = args
        .keys
        .iter()
        .map(|k| csv.column(k, "key variable"))
        .collect::<Result<_, _>>()?;
    let weight = args
        .weight
        .as_deref()
        .map(|w| csv.column(w, "weight"))
        .transpose()?;
    let household = args
        .household
        .as_deref()
        .map(|h| csv.column(h, "household id"))
        .transpose()?;
    let sensitive: Vec<usize> = args
        .sensitive
        .iter()
        .map(|s| csv.column(s, "sensitive variable"))
        .collect::<Result<_, _>>()?;
    let key_names: Vec<&str> = args.keys.iter().map(String::as_str).collect();
    let sensitive_names: Vec<&str> = args.sensitive.iter().map(String::as_str).collect();
    let mut builder = TableBuilder::new(
        &key_names,
        args.weight.as_deref(),
        args.household.as_deref(),
        &sensitive_names,
    )
    .map_err(|e| csv.err(e.to_string()))?;
    let err = |m: String| InputError(format!("{}: {m}", args.file.display()));
    csv.each(|csv, line, record| {
        let cell = |i: usize| cell(record, i, &args.missing_values);
        // On the stack rather than a vector per record: the builder accepted at most MAX_KEYS
        // keys.
        let mut key_values = [None; baraza_sdc::table::MAX_KEYS];
        for (v, &i) in key_values.iter_mut().zip(&keys) {
            *v = cell(i);
        }
        let key_values = &key_values[..keys.len()];
        let sensitive_values: Vec<Option<&str>> = sensitive.iter().map(|&i| cell(i)).collect();
        let w = match weight {
            None => None,
            Some(i) => match cell(i) {
                None => None,
                Some(text) => Some(text.parse::<f64>().map_err(|_| {
                    csv.err(format!(
                        "row {line}, column {:?}: the weight {text:?} is not a number",
                        args.weight.as_deref().unwrap_or_default()
                    ))
                })?),
            },
        };
        builder
            .push(Row {
                number: line,
                keys: key_values,
                weight: w,
                household: household.and_then(cell),
                sensitive: &sensitive_values,
            })
            .map_err(|e| csv.err(e.to_string()))
    })?;
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

/// What `baraza sdc release` was asked.
#[derive(Debug, Clone)]
pub struct ReleaseArgs {
    pub file: PathBuf,
    pub recipe: PathBuf,
    pub policy: Option<PathBuf>,
    pub output: PathBuf,
    pub report: Option<PathBuf>,
    /// Cell texts that mean "missing" (compared after trimming spaces).
    pub missing_values: Vec<String>,
}

/// Why `baraza sdc release` wrote nothing.
#[derive(Debug)]
pub enum ReleaseError {
    /// Unusable input (exit status 2).
    Input(InputError),
    /// The policy refused (exit status 3); the text lists the failed checks.
    Refused(String),
}

impl From<InputError> for ReleaseError {
    fn from(e: InputError) -> Self {
        ReleaseError::Input(e)
    }
}

/// Reads a TOML file, or a JSON one when its name ends in `.json`.
fn read_config<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, InputError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError(format!(
            "{shown}: cannot read the {what} ({e}): check its name"
        ))
    })?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if json {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        InputError(format!(
            "{shown}: this {what} cannot be read: {}",
            e.trim_end()
        ))
    })
}

/// Applies a recipe to a CSV file; writes the released file and the report only when the
/// policy passes. Returns what to print.
pub fn release(args: &ReleaseArgs) -> Result<String, ReleaseError> {
    let recipe: baraza_sdc::Recipe = read_config(&args.recipe, "recipe")?;
    let policy: baraza_sdc::Policy = match &args.policy {
        Some(p) => read_config(p, "policy")?,
        None => baraza_sdc::Policy::default(),
    };
    let csv = CsvFile::open(&args.file)?;
    let columns: Vec<String> = csv.names().iter().map(|s| (*s).to_owned()).collect();
    let mut data = baraza_sdc::Microdata::new(columns).map_err(|e| csv.err(e.to_string()))?;
    csv.each(|csv, line, record| {
        let values = (0..record.len())
            .map(|i| cell(record, i, &args.missing_values).map(str::to_owned))
            .collect();
        data.push(line, values).map_err(|e| csv.err(e.to_string()))
    })?;
    let released = match baraza_sdc::release(&data, &recipe, &policy) {
        Ok(r) => r,
        Err(baraza_sdc::Refused::Invalid(e)) => {
            return Err(InputError(format!(
                "{} with {}: {e}",
                args.recipe.display(),
                args.file.display()
            ))
            .into())
        }
        Err(baraza_sdc::Refused::Policy(report)) => {
            return Err(ReleaseError::Refused(refusal(&report)))
        }
    };
    let out_err = |p: &Path, e: &dyn std::fmt::Display| {
        InputError(format!("{}: cannot write the file ({e})", p.display()))
    };
    let mut w = csv::Writer::from_path(&args.output).map_err(|e| out_err(&args.output, &e))?;
    w.write_record(released.columns())
        .map_err(|e| out_err(&args.output, &e))?;
    for i in 0..released.rows() {
        w.write_record(released.row(i).iter().map(|v| v.unwrap_or("")))
            .map_err(|e| out_err(&args.output, &e))?;
    }
    w.flush().map_err(|e| out_err(&args.output, &e))?;
    let report = released.report();
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(report).unwrap_or_default() + "\n";
        std::fs::write(path, json).map_err(|e| out_err(path, &e))?;
    }
    let k = policy.k;
    let below = |r: &baraza_sdc::RiskSummary| r.below(k).unwrap_or(0);
    Ok(format!(
        "Released {} records ({} columns) to {}\n  below {k}-anonymity: {} records before, {} after\n  global risk: {:.2}% before, {:.2}% after\n  values suppressed: {}, changed: {}\n",
        report.records,
        report.columns.len(),
        args.output.display(),
        below(&report.risk_before),
        below(&report.risk_after),
        report.risk_before.global_risk_percent,
        report.risk_after.global_risk_percent,
        report.loss.suppressed,
        report.loss.changed,
    ))
}

/// The failed checks of a refused release, with their figures.
fn refusal(report: &baraza_sdc::ReleaseReport) -> String {
    let mut s = String::from("the policy refused the release, nothing was written:\n");
    for c in report.verdict.failed() {
        let found = c
            .found
            .map_or("not measured".to_owned(), |f| format!("{f}"));
        let line = match c.rule {
            baraza_sdc::Rule::KAnonymity => format!(
                "k_anonymity: {found} records below k = {} (must be 0)",
                c.k.unwrap_or_default()
            ),
            baraza_sdc::Rule::GlobalRisk => format!(
                "global_risk: {:.2}% (must be under {}%)",
                c.found.unwrap_or(f64::NAN),
                c.required
            ),
            baraza_sdc::Rule::VariableWithheld => format!(
                "variable_withheld: {:?} would leave (drop it in the recipe or allow it in the policy)",
                c.variable.as_deref().unwrap_or_default()
            ),
            baraza_sdc::Rule::KeyAssessed => format!(
                "key_assessed: {:?} is not among the recipe's keys (add it)",
                c.variable.as_deref().unwrap_or_default()
            ),
        };
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("change the recipe (recode further, add a suppression step) or the policy");
    s
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

/// Reports larger than this are not release reports.
const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;

/// Checks a release report's signature (`baraza sdc verify-report`): `Ok(false)` when it does
/// not verify, an error naming the problem when the input is unusable.
pub fn verify_report(file: &Path, key: &str, signature: &str) -> Result<bool, String> {
    let key = baraza_protect::chain::AuditPublicKey::from_hex(key.trim())
        .map_err(|e| format!("--key: {e}"))?;
    let sig: [u8; 64] = hex::decode(signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("--signature: expected 128 hexadecimal digits")?;
    let size = std::fs::metadata(file)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .len();
    if size > MAX_REPORT_BYTES {
        return Err(format!(
            "{}: {size} bytes, larger than any release report",
            file.display()
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(key.verify_document(baraza_core::releases::REPORT_KIND, &bytes, &sig))
}
