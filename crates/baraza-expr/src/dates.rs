//! Calendar arithmetic (proleptic Gregorian, days since 1970-01-01) and the
//! ISO 8601 forms ODK uses: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS.sss+HH:MM`,
//! `HH:MM:SS.sss+HH:MM`.

const MS_PER_DAY: i64 = 86_400_000;
/// Days beyond which we refuse to convert (about ±270 000 years).
const MAX_DAYS: f64 = 1e8;

/// A parsed date or date-time, in its own wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DateTime {
    pub days: i64,
    /// Milliseconds since local midnight.
    pub ms: i64,
    /// UTC offset in minutes, when the text had one.
    pub offset_min: Option<i64>,
}

impl DateTime {
    /// Days since the epoch of the instant (offset honoured when present).
    pub fn to_days(self) -> f64 {
        let off = self.offset_min.unwrap_or(0) * 60_000;
        self.days as f64 + (self.ms - off) as f64 / MS_PER_DAY as f64
    }

    pub fn from_days(days: f64) -> Option<DateTime> {
        if !days.is_finite() || days.abs() > MAX_DAYS {
            return None;
        }
        let total = (days * MS_PER_DAY as f64).round() as i64;
        Some(DateTime {
            days: total.div_euclid(MS_PER_DAY),
            ms: total.rem_euclid(MS_PER_DAY),
            offset_min: None,
        })
    }
}

/// Howard Hinnant's `days_from_civil`.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`: (year, month, day).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses exactly `n` ASCII digits at the start of `s`.
fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// `YYYY-MM-DD` at the start of `s`: (days, rest).
fn date_prefix(s: &str) -> Option<(i64, &str)> {
    let (y, s) = digits(s, 4)?;
    let s = s.strip_prefix('-')?;
    let (m, s) = digits(s, 2)?;
    let s = s.strip_prefix('-')?;
    let (d, s) = digits(s, 2)?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some((days_from_civil(y, m, d), s))
}

/// `HH:MM[:SS[.fff]][Z|±HH[:MM]]`: (ms of day, offset minutes).
pub(crate) fn parse_time(s: &str) -> Option<(i64, Option<i64>)> {
    let (h, s) = digits(s, 2)?;
    let s = s.strip_prefix(':')?;
    let (mi, mut s) = digits(s, 2)?;
    let mut sec = 0;
    let mut ms = 0;
    if let Some(r) = s.strip_prefix(':') {
        let (v, r) = digits(r, 2)?;
        sec = v;
        s = r;
        if let Some(r) = s.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            let frac = &r[..n];
            // Milliseconds from the first three digits, right-padded.
            let mut v = 0;
            for (i, b) in frac.bytes().take(3).enumerate() {
                v += i64::from(b - b'0') * [100, 10, 1][i];
            }
            ms = v;
            s = &r[n..];
        }
    }
    if h > 24 || mi > 59 || sec > 60 {
        return None;
    }
    let offset = parse_offset(s)?;
    Some((((h * 60 + mi) * 60 + sec) * 1000 + ms, offset))
}

/// `` | `Z` | `±HH` | `±HH:MM` | `±HHMM`; the outer `None` means malformed.
fn parse_offset(s: &str) -> Option<Option<i64>> {
    if s.is_empty() {
        return Some(None);
    }
    if s == "Z" {
        return Some(Some(0));
    }
    let (sign, r) = if let Some(r) = s.strip_prefix('+') {
        (1, r)
    } else {
        (-1, s.strip_prefix('-')?)
    };
    let (h, r) = digits(r, 2)?;
    let r = r.strip_prefix(':').unwrap_or(r);
    let m = if r.is_empty() {
        0
    } else {
        let (m, rest) = digits(r, 2)?;
        if !rest.is_empty() {
            return None;
        }
        m
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(Some(sign * (h * 60 + m)))
}

/// A date (`YYYY-MM-DD`) or date-time (`YYYY-MM-DDTHH:MM…`, `T` or space).
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime> {
    let s = s.trim();
    let (days, rest) = date_prefix(s)?;
    if rest.is_empty() {
        return Some(DateTime {
            days,
            ms: 0,
            offset_min: None,
        });
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let (ms, offset_min) = parse_time(rest)?;
    Some(DateTime {
        days,
        ms,
        offset_min,
    })
}

/// Days since the epoch for a date or date-time string.
pub(crate) fn string_to_days(s: &str) -> Option<f64> {
    parse_datetime(s).map(DateTime::to_days)
}

pub(crate) fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

pub(crate) fn format_datetime(dt: DateTime) -> String {
    let mut out = format_date(dt.days);
    let ms = dt.ms;
    out.push_str(&format!(
        "T{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    ));
    match dt.offset_min {
        None | Some(0) => out.push('Z'),
        Some(o) => {
            let sign = if o < 0 { '-' } else { '+' };
            out.push_str(&format!("{sign}{:02}:{:02}", o.abs() / 60, o.abs() % 60));
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// ODK `format-date`/`format-date-time` patterns: %Y %y %m %n %b %d %e %H %h
/// %M %S %3 %a; `%%` is a literal `%`; other `%x` are kept as they are.
pub(crate) fn format_pattern(dt: DateTime, pattern: &str) -> String {
    let (y, m, d) = civil_from_days(dt.days);
    let (h, mi, s, ms) = (
        dt.ms / 3_600_000,
        dt.ms / 60_000 % 60,
        dt.ms / 1000 % 60,
        dt.ms % 1000,
    );
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{y:04}")),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('n') => out.push_str(&m.to_string()),
            // Month is 1..=12 by construction of civil_from_days.
            Some('b') => out.push_str(MONTHS.get((m - 1) as usize).copied().unwrap_or("")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&d.to_string()),
            Some('H') => out.push_str(&format!("{h:02}")),
            Some('h') => out.push_str(&h.to_string()),
            Some('M') => out.push_str(&format!("{mi:02}")),
            Some('S') => out.push_str(&format!("{s:02}")),
            Some('3') => out.push_str(&format!("{ms:03}")),
            Some('a') => {
                let wd = (dt.days + 4).rem_euclid(7) as usize;
                out.push_str(WEEKDAYS.get(wd).copied().unwrap_or(""));
            }
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 59, 365, 10_957, 20_484, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn parse_forms() {
        assert_eq!(string_to_days("1970-01-02"), Some(1.0));
        assert_eq!(string_to_days("1970-01-01T12:00:00Z"), Some(0.5));
        assert_eq!(string_to_days("1970-01-01T12:00:00.000+12:00"), Some(0.0));
        assert_eq!(string_to_days("1970-01-01 06:00"), Some(0.25));
        assert_eq!(string_to_days("2026-02-30"), None);
        assert_eq!(string_to_days("2026-1-3"), None);
        assert_eq!(string_to_days("2024-02-29"), Some(19_782.0));
        assert_eq!(parse_time("10:30:15.5"), Some((37_815_500, None)));
    }

    #[test]
    fn patterns() {
        let dt = parse_datetime("2026-01-05T07:08:09.010").unwrap();
        assert_eq!(
            format_pattern(dt, "%Y %y %m %n %b %d %e %H %h %M %S %3 %a %%"),
            "2026 26 01 1 Jan 05 5 07 7 08 09 010 Mon %"
        );
    }
}
