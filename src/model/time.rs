//! Dates shown to people, formatted the same way on the server and in the browser
//! (UTC, so that server rendering and hydration agree).

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// (year, month 1-12, day 1-31) of a Unix time, UTC (Howard Hinnant's civil-from-days).
pub fn civil(unix: i64) -> (i64, u32, u32) {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// "22 November 2026"
pub fn format_date(unix: i64) -> String {
    let (y, m, d) = civil(unix);
    format!("{d} {} {y}", MONTHS[(m - 1) as usize])
}

/// "22 November 2026 at 15:04 UTC"
pub fn format_datetime(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{} at {:02}:{:02} UTC",
        format_date(unix),
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// "2026-11-22T15:04:59Z" (ISO 8601, UTC): the exports' time and a `<time>`'s datetime.
pub fn format_iso(unix: i64) -> String {
    let (y, m, d) = civil(unix);
    let secs = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// How long ago, in words: "just now", "5 minutes ago", "3 hours ago", "2 days ago";
/// past a month, the date.
pub fn format_ago(unix: i64, now: i64) -> String {
    let secs = (now - unix).max(0);
    let say = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        0..=59 => "just now".to_string(),
        60..=3_599 => say(secs / 60, "minute"),
        3_600..=86_399 => say(secs / 3_600, "hour"),
        86_400..=2_591_999 => say(secs / 86_400, "day"),
        _ => format!("on {}", format_date(unix)),
    }
}

/// A day ("2026-11-22", as a date input gives it) as (year, month, day).
pub fn parse_day(day: &str) -> Option<(i32, u32, u32)> {
    let mut parts = day.splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    (day.len() == 10 && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// The Unix time of a day's midnight, UTC (Hinnant's days-from-civil).
pub fn utc_midnight(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(format_date(951_782_400), "29 February 2000");
        assert_eq!(format_date(1_795_305_600), "22 November 2026");
        assert_eq!(
            format_datetime(1_795_305_600 + 15 * 3600 + 4 * 60 + 59),
            "22 November 2026 at 15:04 UTC"
        );
        assert_eq!(format_date(-86_400), "31 December 1969");
        assert_eq!(
            format_iso(1_795_305_600 + 15 * 3600 + 4 * 60 + 59),
            "2026-11-22T15:04:59Z"
        );
        assert_eq!(format_iso(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn days_and_midnights() {
        assert_eq!(parse_day("2026-11-22"), Some((2026, 11, 22)));
        assert_eq!(parse_day("2026-13-01"), None);
        assert_eq!(parse_day("2026-1-1"), None);
        assert_eq!(parse_day("junk"), None);
        assert_eq!(utc_midnight(2026, 11, 22), 1_795_305_600);
        assert_eq!(utc_midnight(2000, 2, 29), 951_782_400);
        assert_eq!(utc_midnight(1970, 1, 1), 0);
        for day in [0, 59, 60, 365, 10_000, 20_414] {
            let (y, m, d) = civil(day * 86_400);
            assert_eq!(utc_midnight(y as i32, m, d), day * 86_400);
        }
    }

    #[test]
    fn ago_in_words() {
        let now = 1_795_305_600;
        assert_eq!(format_ago(now, now), "just now");
        assert_eq!(format_ago(now - 59, now), "just now");
        assert_eq!(format_ago(now - 60, now), "1 minute ago");
        assert_eq!(format_ago(now - 5 * 60 - 10, now), "5 minutes ago");
        assert_eq!(format_ago(now - 3 * 3600, now), "3 hours ago");
        assert_eq!(format_ago(now - 86_400, now), "1 day ago");
        assert_eq!(format_ago(now - 40 * 86_400, now), "on 13 October 2026");
        // A clock a little ahead of the server's is "just now", not the future.
        assert_eq!(format_ago(now + 30, now), "just now");
    }
}
