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
    }
}
