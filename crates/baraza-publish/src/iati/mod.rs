//! IATI 2.03 activity XML: an organisation's projects as aid-transparency activities, with
//! their budgets and transactions, as the IATI registry and d-portal read them.
//!
//! # Design
//!
//! What a project records ([`ActivityFields`], [`Budget`], [`Transaction`]) is checked here
//! ([`check_activity`], [`check_budget`], [`check_transaction`], [`check_org`]) — every problem
//! is returned, each naming its field, so that the caller can say all of them — and written by
//! [`open`], [`activity`] and [`close`], one activity at a time, so that a file of many
//! activities is produced piece by piece. Elements are written in the order of the IATI 2.03
//! schema's `iati-activity` sequence (`iati-identifier`, `reporting-org`, `title`,
//! `description`, `participating-org`, `activity-status`, `activity-date`, `recipient-country`,
//! `recipient-region`, `sector`, `budget`, `transaction`), which the schema enforces.
//!
//! Money never passes through a float: amounts are decimal text with at most two decimals,
//! summed as integer hundredths ([`hundredths`], [`sum`]).
//!
//! Pure: no clock (the time of generation and "today" are given), no IO.

pub mod codes;

use crate::atom::{attr, text};
use crate::time::{parse_ymd, push_iso_timestamp, unix_days};
use codes::{find, Code};
use serde::{Deserialize, Serialize};

/// An organisation as it reports: its IATI organisation identifier, type and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporting {
    pub identifier: String,
    pub org_type: String,
    pub name: String,
}

/// A sector of the activity (DAC 5-digit) and its share, in percent (empty for a lone sector).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SectorShare {
    pub code: String,
    pub percentage: String,
}

/// An organisation taking part in the activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Participant {
    /// OrganisationRole: 1 funding, 2 accountable, 3 extending, 4 implementing.
    pub role: String,
    pub name: String,
    /// Its IATI organisation identifier, when it has one.
    #[serde(rename = "ref")]
    pub reference: String,
    /// OrganisationType, or empty.
    pub org_type: String,
}

/// What a project records about its activity (all but budgets and transactions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityFields {
    /// The language of narratives without `xml:lang`: `fr` or `en`.
    pub lang: String,
    pub title_fr: String,
    pub title_en: String,
    pub description_fr: String,
    pub description_en: String,
    /// ActivityStatus 1–6.
    pub status: String,
    pub planned_start: String,
    pub actual_start: String,
    pub planned_end: String,
    pub actual_end: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// A DAC region, or empty.
    pub region: String,
    /// The country's share when a region is given too (the region has the rest).
    pub country_percentage: String,
    pub sectors: Vec<SectorShare>,
    /// ISO 4217, the activity's default currency.
    pub currency: String,
    pub humanitarian: bool,
    pub participants: Vec<Participant>,
}

/// A budget of the activity: a period of at most a year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Budget {
    pub id: i64,
    /// BudgetType: 1 original, 2 revised.
    pub budget_type: String,
    /// BudgetStatus: 1 indicative, 2 committed.
    pub status: String,
    pub period_start: String,
    pub period_end: String,
    /// Decimal text, at most two decimals.
    pub value: String,
    pub currency: String,
    pub value_date: String,
}

/// A transaction of the activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Transaction {
    pub id: i64,
    /// TransactionType 1–13.
    pub transaction_type: String,
    pub date: String,
    pub value: String,
    pub currency: String,
    pub value_date: String,
    pub description: String,
    pub provider_name: String,
    pub provider_ref: String,
    pub receiver_name: String,
    pub receiver_ref: String,
}

/// One activity to write.
#[derive(Debug, Clone, Copy)]
pub struct Activity<'a> {
    /// The project code: the activity's identifier is the reporting organisation's, `-`, this.
    pub code: &'a str,
    pub fields: &'a ActivityFields,
    pub budgets: &'a [Budget],
    pub transactions: &'a [Transaction],
    /// Unix seconds.
    pub last_updated: i64,
}

/// The activity's `iati-identifier`.
pub fn identifier(org: &str, code: &str) -> String {
    format!("{org}-{code}")
}

/// A field that is wrong, and why (the reason is a stable key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: &'static str,
    pub reason: &'static str,
}

fn problem(out: &mut Vec<Problem>, field: &'static str, reason: &'static str) {
    out.push(Problem { field, reason });
}

/// Characters an IATI identifier must not hold (they break the registry's URLs).
fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '~')
}

/// Whether `s` is an organisation identifier: a registration agency prefix (a country code or
/// `XM`/`XI`, a dash, the agency) then the number, as `XM-DAC-41114` or `TD-MEPD-1234`; letters,
/// digits, `- . _ : ~` only (never `/ & | ?` nor spaces), at most 100 characters.
pub fn valid_org_identifier(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    s.len() <= 100
        && s.chars().all(id_char)
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_uppercase())
        && parts.iter().all(|p| !p.is_empty())
}

/// Whether `s` is a project code for an activity identifier: 1 to 50 of `A-Za-z0-9 - . _`.
pub fn valid_code(s: &str) -> bool {
    (1..=50).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// An amount as typed (`1250000`, `1 250 000,50`, `-300.5`) as decimal text with at most two
/// decimals (`1250000`, `1250000.50`, `-300.5`); `None` when it is not one.
pub fn amount(s: &str) -> Option<String> {
    let s: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '_'))
        .collect();
    let s = if s.contains(',') && !s.contains('.') {
        s.replace(',', ".")
    } else {
        s
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || int.len() > 15
        || !int.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (digits.contains('.') && frac.is_empty())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut out = String::new();
    if neg && (int != "0" || frac.bytes().any(|b| b != b'0')) {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// A checked amount in hundredths.
pub fn hundredths(s: &str) -> Option<i128> {
    let s = amount(s)?;
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut v: i128 = int.parse().ok()?;
    v = v * 100
        + match frac.len() {
            0 => 0,
            1 => frac.parse::<i128>().ok()? * 10,
            _ => frac.parse::<i128>().ok()?,
        };
    Some(if neg { -v } else { v })
}

/// Hundredths as decimal text (`125000050` → `1250000.50`, `300` → `3`).
pub fn from_hundredths(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let (int, frac) = (a / 100, a % 100);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:02}")
    }
}

/// The sum of checked amounts, as decimal text (amounts that are not are skipped).
pub fn sum<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    from_hundredths(values.into_iter().filter_map(hundredths).sum())
}

/// `YYYY-MM-DD` as days since 1970-01-01, when it is a real date.
fn days(s: &str) -> Option<i64> {
    parse_ymd(s).map(|(y, m, d)| unix_days(y, m, d))
}

/// Checks an organisation's IATI identity.
pub fn check_org(identifier: &str, org_type: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    if !valid_org_identifier(identifier) {
        problem(&mut out, "identifier", "iati_org_identifier");
    }
    if find(codes::ORGANISATION_TYPES, org_type).is_none() {
        problem(&mut out, "org_type", "iati_org_type");
    }
    out
}

fn check_date(out: &mut Vec<Problem>, field: &'static str, s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let d = days(s);
    if d.is_none() {
        problem(out, field, "iati_date");
    }
    d
}

fn check_percentage(s: &str) -> Option<i128> {
    hundredths(s).filter(|v| (0..=10_000).contains(v))
}

/// Checks an activity's fields; `today` is days since 1970-01-01 (actual dates cannot be
/// later). Every problem found is returned.
pub fn check_activity(code: &str, f: &ActivityFields, today: i64) -> Vec<Problem> {
    let mut out = Vec::new();
    let p = &mut out;
    if !valid_code(code) {
        problem(p, "code", "iati_code");
    }
    if !matches!(f.lang.as_str(), "fr" | "en") {
        problem(p, "lang", "iati_lang");
    }
    let long = |s: &str, n: usize| s.chars().count() > n;
    if (f.title_fr.trim().is_empty() && f.title_en.trim().is_empty())
        || long(&f.title_fr, 500)
        || long(&f.title_en, 500)
    {
        problem(p, "title", "iati_title");
    }
    if (f.description_fr.trim().is_empty() && f.description_en.trim().is_empty())
        || long(&f.description_fr, 10_000)
        || long(&f.description_en, 10_000)
    {
        problem(p, "description", "iati_description");
    }
    if find(codes::ACTIVITY_STATUSES, &f.status).is_none() {
        problem(p, "status", "iati_status");
    }
    let ps = check_date(p, "planned_start", &f.planned_start);
    let as_ = check_date(p, "actual_start", &f.actual_start);
    let pe = check_date(p, "planned_end", &f.planned_end);
    let ae = check_date(p, "actual_end", &f.actual_end);
    if f.planned_start.is_empty() && f.actual_start.is_empty() {
        problem(p, "planned_start", "iati_start_needed");
    }
    if matches!((ps, pe), (Some(s), Some(e)) if e < s) {
        problem(p, "planned_end", "iati_date_order");
    }
    if matches!((as_, ae), (Some(s), Some(e)) if e < s) {
        problem(p, "actual_end", "iati_date_order");
    }
    if as_.is_some_and(|d| d > today) {
        problem(p, "actual_start", "iati_future");
    }
    if ae.is_some_and(|d| d > today) {
        problem(p, "actual_end", "iati_future");
    }
    if matches!(f.status.as_str(), "2" | "3" | "4") && f.actual_start.is_empty() {
        problem(p, "actual_start", "iati_actual_start_needed");
    }
    if f.status == "4" && f.actual_end.is_empty() {
        problem(p, "actual_end", "iati_actual_end_needed");
    }
    if !codes::is_country(&f.country) {
        problem(p, "country", "iati_country");
    }
    if !f.region.is_empty() {
        if find(codes::REGIONS, &f.region).is_none() {
            problem(p, "region", "iati_region");
        }
        if check_percentage(&f.country_percentage).is_none() {
            problem(p, "country_percentage", "iati_country_percentage");
        }
    }
    if f.sectors.is_empty() {
        problem(p, "sectors", "iati_sector_needed");
    }
    if f.sectors
        .iter()
        .any(|s| find(codes::SECTORS, &s.code).is_none())
    {
        problem(p, "sectors", "iati_sector");
    }
    let mut codes_seen: Vec<&str> = f.sectors.iter().map(|s| s.code.as_str()).collect();
    codes_seen.sort_unstable();
    codes_seen.dedup();
    if codes_seen.len() != f.sectors.len() {
        problem(p, "sectors", "iati_sector_twice");
    }
    let lone_ok = f.sectors.len() == 1
        && (f.sectors[0].percentage.is_empty()
            || check_percentage(&f.sectors[0].percentage) == Some(10_000));
    if f.sectors.len() > 1 || (f.sectors.len() == 1 && !lone_ok) {
        let shares: Option<Vec<i128>> = f
            .sectors
            .iter()
            .map(|s| check_percentage(&s.percentage))
            .collect();
        if shares.is_none_or(|v| v.iter().sum::<i128>() != 10_000) {
            problem(p, "sectors", "iati_sector_percentages");
        }
    }
    if !codes::is_currency(&f.currency) {
        problem(p, "currency", "iati_currency");
    }
    if f.participants.is_empty() {
        problem(p, "participants", "iati_participant_needed");
    }
    for o in &f.participants {
        if o.name.trim().is_empty()
            || long(&o.name, 300)
            || find(codes::ORGANISATION_ROLES, &o.role).is_none()
            || (!o.org_type.is_empty() && find(codes::ORGANISATION_TYPES, &o.org_type).is_none())
            || (!o.reference.is_empty()
                && (o.reference.len() > 100 || !o.reference.chars().all(id_char)))
        {
            problem(p, "participants", "iati_participant");
            break;
        }
    }
    out
}

fn check_money(
    out: &mut Vec<Problem>,
    value: &str,
    currency: &str,
    value_date: &str,
    signed: bool,
) {
    match hundredths(value) {
        None => problem(out, "value", "iati_amount"),
        Some(v) if v < 0 && !signed => problem(out, "value", "iati_negative"),
        Some(_) => {}
    }
    if !codes::is_currency(currency) {
        problem(out, "currency", "iati_currency");
    }
    if days(value_date).is_none() {
        problem(out, "value_date", "iati_date");
    }
}

/// Checks a budget: codes, a period of at most one year (IATI's rule), a value of zero or more.
pub fn check_budget(b: &Budget) -> Vec<Problem> {
    let mut out = Vec::new();
    if find(codes::BUDGET_TYPES, &b.budget_type).is_none() {
        problem(&mut out, "budget_type", "iati_budget_type");
    }
    if find(codes::BUDGET_STATUSES, &b.status).is_none() {
        problem(&mut out, "status", "iati_budget_status");
    }
    let s = days(&b.period_start);
    let e = days(&b.period_end);
    if s.is_none() {
        problem(&mut out, "period_start", "iati_date");
    }
    if e.is_none() {
        problem(&mut out, "period_end", "iati_date");
    }
    if let (Some(s), Some(e)) = (s, e) {
        if e < s {
            problem(&mut out, "period_end", "iati_date_order");
        } else if !within_a_year(&b.period_start, &b.period_end) {
            problem(&mut out, "period_end", "iati_budget_period");
        }
    }
    check_money(&mut out, &b.value, &b.currency, &b.value_date, false);
    out
}

/// Whether `end` comes before the same day a year after `start` (so a period of at most a year).
fn within_a_year(start: &str, end: &str) -> bool {
    let (Some((y, m, d)), Some(e)) = (parse_ymd(start), days(end)) else {
        return false;
    };
    // 29 February has no anniversary: a year after it is 1 March.
    let next = if m == 2 && d == 29 {
        unix_days(y + 1, 3, 1)
    } else {
        unix_days(y + 1, m, d)
    };
    e < next
}

/// Checks a transaction.
pub fn check_transaction(t: &Transaction) -> Vec<Problem> {
    let mut out = Vec::new();
    if find(codes::TRANSACTION_TYPES, &t.transaction_type).is_none() {
        problem(&mut out, "transaction_type", "iati_transaction_type");
    }
    if days(&t.date).is_none() {
        problem(&mut out, "date", "iati_date");
    }
    check_money(&mut out, &t.value, &t.currency, &t.value_date, true);
    for (field, r) in [
        ("provider_ref", &t.provider_ref),
        ("receiver_ref", &t.receiver_ref),
    ] {
        if !r.is_empty() && (r.len() > 100 || !r.chars().all(id_char)) {
            problem(&mut out, field, "iati_reference");
        }
    }
    if t.description.chars().count() > 2000
        || t.provider_name.chars().count() > 300
        || t.receiver_name.chars().count() > 300
    {
        problem(&mut out, "description", "iati_too_long");
    }
    out
}

fn iso_datetime(out: &mut String, unix: i64) {
    push_iso_timestamp(out, unix);
}

fn narratives(out: &mut String, indent: &str, lang: &str, pairs: &[(&str, &str)]) {
    // The default language first, without xml:lang; the others with it.
    let mut sorted: Vec<&(&str, &str)> =
        pairs.iter().filter(|(_, t)| !t.trim().is_empty()).collect();
    sorted.sort_by_key(|(l, _)| *l != lang);
    for (l, t) in sorted {
        out.push_str(indent);
        if *l == lang {
            out.push_str("<narrative>");
        } else {
            out.push_str("<narrative xml:lang=\"");
            attr(out, l);
            out.push_str("\">");
        }
        text(out, t.trim());
        out.push_str("</narrative>\n");
    }
}

fn open_tag(out: &mut String, indent: &str, name: &str, attrs: &[(&str, &str)], empty: bool) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        if v.is_empty() {
            continue;
        }
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        attr(out, v);
        out.push('"');
    }
    out.push_str(if empty { "/>\n" } else { ">\n" });
}

fn close_tag(out: &mut String, indent: &str, name: &str) {
    out.push_str(indent);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Writes the document's start: the XML declaration and `<iati-activities>`.
pub fn open(out: &mut String, generated: i64) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<iati-activities version=\"2.03\" generated-datetime=\"");
    iso_datetime(out, generated);
    out.push_str("\">\n");
}

/// Writes the document's end.
pub fn close(out: &mut String) {
    out.push_str("</iati-activities>\n");
}

fn value(out: &mut String, indent: &str, v: &str, currency: &str, value_date: &str) {
    out.push_str(indent);
    out.push_str("<value currency=\"");
    attr(out, currency);
    out.push_str("\" value-date=\"");
    attr(out, value_date);
    out.push_str("\">");
    text(out, &amount(v).unwrap_or_else(|| "0".into()));
    out.push_str("</value>\n");
}

fn org_element(out: &mut String, name: &str, reference: &str, org_name: &str, lang: &str) {
    if org_name.trim().is_empty() && reference.is_empty() {
        return;
    }
    let i = "      ";
    open_tag(out, i, name, &[("ref", reference)], false);
    narratives(out, "        ", lang, &[(lang, org_name)]);
    close_tag(out, i, name);
}

/// Writes one `<iati-activity>` reported by `reporting`.
pub fn activity(out: &mut String, reporting: &Reporting, a: &Activity<'_>) {
    let f = a.fields;
    let lang = if f.lang.is_empty() { "fr" } else { &f.lang };
    let mut updated = String::new();
    iso_datetime(&mut updated, a.last_updated);
    open_tag(
        out,
        "  ",
        "iati-activity",
        &[
            ("last-updated-datetime", &updated),
            ("xml:lang", lang),
            ("default-currency", &f.currency),
            ("humanitarian", if f.humanitarian { "1" } else { "0" }),
            ("hierarchy", "1"),
        ],
        false,
    );
    let i = "    ";
    let n = "      ";
    out.push_str(i);
    out.push_str("<iati-identifier>");
    text(out, &identifier(&reporting.identifier, a.code));
    out.push_str("</iati-identifier>\n");
    open_tag(
        out,
        i,
        "reporting-org",
        &[
            ("ref", &reporting.identifier),
            ("type", &reporting.org_type),
        ],
        false,
    );
    narratives(out, n, lang, &[(lang, &reporting.name)]);
    close_tag(out, i, "reporting-org");
    open_tag(out, i, "title", &[], false);
    narratives(out, n, lang, &[("fr", &f.title_fr), ("en", &f.title_en)]);
    close_tag(out, i, "title");
    open_tag(out, i, "description", &[("type", "1")], false);
    narratives(
        out,
        n,
        lang,
        &[("fr", &f.description_fr), ("en", &f.description_en)],
    );
    close_tag(out, i, "description");
    for o in &f.participants {
        open_tag(
            out,
            i,
            "participating-org",
            &[
                ("ref", &o.reference),
                ("type", &o.org_type),
                ("role", &o.role),
            ],
            false,
        );
        narratives(out, n, lang, &[(lang, &o.name)]);
        close_tag(out, i, "participating-org");
    }
    open_tag(out, i, "activity-status", &[("code", &f.status)], true);
    for (ty, d) in [
        ("1", &f.planned_start),
        ("2", &f.actual_start),
        ("3", &f.planned_end),
        ("4", &f.actual_end),
    ] {
        if !d.is_empty() {
            open_tag(
                out,
                i,
                "activity-date",
                &[("iso-date", d), ("type", ty)],
                true,
            );
        }
    }
    let pct = |s: &str| amount(s).unwrap_or_default();
    if f.region.is_empty() {
        open_tag(
            out,
            i,
            "recipient-country",
            &[("code", &f.country), ("percentage", "100")],
            true,
        );
    } else {
        let country = check_percentage(&f.country_percentage).unwrap_or(10_000);
        open_tag(
            out,
            i,
            "recipient-country",
            &[
                ("code", &f.country),
                ("percentage", &from_hundredths(country)),
            ],
            true,
        );
        open_tag(
            out,
            i,
            "recipient-region",
            &[
                ("code", &f.region),
                ("vocabulary", "1"),
                ("percentage", &from_hundredths(10_000 - country)),
            ],
            true,
        );
    }
    for s in &f.sectors {
        let share = if f.sectors.len() == 1 {
            "100".to_string()
        } else {
            pct(&s.percentage)
        };
        open_tag(
            out,
            i,
            "sector",
            &[
                ("vocabulary", "1"),
                ("code", &s.code),
                ("percentage", &share),
            ],
            true,
        );
    }
    for b in a.budgets {
        open_tag(
            out,
            i,
            "budget",
            &[("type", &b.budget_type), ("status", &b.status)],
            false,
        );
        open_tag(
            out,
            n,
            "period-start",
            &[("iso-date", &b.period_start)],
            true,
        );
        open_tag(out, n, "period-end", &[("iso-date", &b.period_end)], true);
        value(out, n, &b.value, &b.currency, &b.value_date);
        close_tag(out, i, "budget");
    }
    for t in a.transactions {
        open_tag(out, i, "transaction", &[], false);
        open_tag(
            out,
            n,
            "transaction-type",
            &[("code", &t.transaction_type)],
            true,
        );
        open_tag(out, n, "transaction-date", &[("iso-date", &t.date)], true);
        value(out, n, &t.value, &t.currency, &t.value_date);
        if !t.description.trim().is_empty() {
            open_tag(out, n, "description", &[], false);
            narratives(out, "        ", lang, &[(lang, &t.description)]);
            close_tag(out, n, "description");
        }
        org_element(out, "provider-org", &t.provider_ref, &t.provider_name, lang);
        org_element(out, "receiver-org", &t.receiver_ref, &t.receiver_name, lang);
        close_tag(out, i, "transaction");
    }
    close_tag(out, "  ", "iati-activity");
}

/// A whole `iati-activities` document (at least one activity, as the schema requires).
pub fn document(reporting: &Reporting, activities: &[Activity<'_>], generated: i64) -> String {
    let mut out = String::new();
    open(&mut out, generated);
    for a in activities {
        activity(&mut out, reporting, a);
    }
    close(&mut out);
    out
}

/// The names of a codelist's codes in `lang`, for pages.
pub fn name_of(list: &'static [Code], code: &str, lang: &str) -> String {
    find(list, code)
        .map(|c| c.name(lang).to_string())
        .unwrap_or_else(|| code.to_string())
}

#[cfg(test)]
mod tests;
