//! Dates between Unix seconds and ISO 8601, without a clock or a time-zone database.

/// Days since 1970-01-01 of a day of the proleptic Gregorian calendar.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The day (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DDTHH:MM:SS.000Z`, as ODK Central (JavaScript's `Date`) writes times.
pub fn iso_ms(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `YYYY-MM-DD` as the Unix seconds of its midnight, UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (y, m, d) = (digits(y, 4)?, digits(m, 2)?, digits(d, 2)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

/// A date and time with its offset, `YYYY-MM-DDThh:mm[:ss[.fff…]](Z|±hh:mm)`: the Unix seconds
/// (rounded down) and whether a fraction of a second remained.
pub fn parse_datetime(s: &str) -> Option<(i64, bool)> {
    let (date, rest) = s.split_once(['T', 't'])?;
    let day = parse_date(date)?;
    let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (c, z) = rest.split_at(at);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (h, m) = z.get(1..)?.split_once(':')?;
        let (h, m) = (digits(h, 2)?, digits(m, 2)?);
        if h > 23 || m > 59 {
            return None;
        }
        (c, sign * (h * 3600 + m * 60))
    };
    let mut parts = clock.split(':');
    let (h, m) = (digits(parts.next()?, 2)?, digits(parts.next()?, 2)?);
    let (sec, fraction) = match parts.next() {
        None => (0, false),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            let whole = digits(whole, 2)?;
            let fraction = match frac {
                None => false,
                Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                    f.bytes().any(|b| b != b'0')
                }
                Some(_) => return None,
            };
            (whole, fraction)
        }
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some((day + h * 3600 + m * 60 + sec - offset, fraction))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_790_000_000), "2026-09-21T14:13:20.000Z");
        assert_eq!(parse_date("2026-09-21"), Some(1_789_948_800));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800));
        for bad in ["2026-02-29", "2026-13-01", "26-01-01", "2026-1-01", "x"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(
            parse_datetime("2026-09-21T14:13:20Z"),
            Some((1_790_000_000, false))
        );
        assert_eq!(
            parse_datetime("2026-09-21T15:13:20.500+01:00"),
            Some((1_790_000_000, true))
        );
        assert_eq!(
            parse_datetime("2026-09-21T14:13Z"),
            Some((1_790_000_000 - 20, false))
        );
        assert_eq!(
            parse_datetime("2026-09-21T14:13:20.000Z"),
            Some((1_790_000_000, false))
        );
        for bad in [
            "2026-09-21",
            "2026-09-21T25:00Z",
            "2026-09-21T14:13:20",
            "2026-09-21T14:13:20.Z",
            "2026-09-21T14:13:20+1:00",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        for secs in [-86_401, 0, 951_782_400, 4_102_444_799] {
            let s = iso_ms(secs);
            assert_eq!(parse_datetime(&s), Some((secs, false)), "{s}");
        }
    }
}
