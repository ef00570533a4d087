//! The security log as files: CSV (RFC 4180) and JSON Lines. Whatever a client sent
//! (a user agent with quotes, newlines or markup) stays data: CSV cells are quoted
//! when needed, and a cell that a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`.

/// One CSV cell, escaped.
pub fn csv_cell(value: &str) -> String {
    // Spreadsheets may trim leading spaces and line breaks before they look.
    let first = value.trim_start_matches([' ', '\n']).chars().next();
    let neutral = match first {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    // Quoted also when it holds a semicolon or a tab: spreadsheets in locales whose
    // list separator is `;` split unquoted cells there, and the piece after it would
    // start a new cell (one that could be a formula).
    if neutral.contains([',', '"', '\n', '\r', ';', '\t']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One CSV line (ending in CRLF) of the given cells.
pub fn csv_line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = cells
        .into_iter()
        .map(csv_cell)
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The file name of an export: the account and the day, in characters every system
/// accepts.
pub fn file_name(email: &str, day: &str, extension: &str) -> String {
    let account: String = email
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("security-log-{account}-{day}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_cell("+1+1"), "'+1+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tcmd"), "\"'\tcmd\"");
        assert_eq!(csv_cell("a=b"), "a=b");
        // A separator of another locale cannot start a cell.
        assert_eq!(csv_cell("Mozilla;=cmd|x"), "\"Mozilla;=cmd|x\"");
        assert_eq!(csv_cell("a\t=1"), "\"a\t=1\"");
        assert_eq!(csv_cell("  =1+1"), "'  =1+1");
        assert_eq!(csv_cell("\n@x"), "\"'\n@x\"");
    }

    #[test]
    fn quotes_commas_and_newlines_stay_inside_one_cell() {
        assert_eq!(
            csv_cell("Mozilla/5.0 (X11 Linux)"),
            "Mozilla/5.0 (X11 Linux)"
        );
        assert_eq!(
            csv_cell("Mozilla/5.0 (X11; Linux)"),
            "\"Mozilla/5.0 (X11; Linux)\""
        );
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(
            csv_cell("<script>alert(1)</script>"),
            "<script>alert(1)</script>"
        );
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_line(["a", "b,c", "=d"]), "a,\"b,c\",'=d\r\n");
    }

    #[test]
    fn file_names_carry_the_account_and_the_day() {
        assert_eq!(
            file_name("Ann.Lee+x@example.com", "2026-11-24", "csv"),
            "security-log-Ann.Lee_x_example.com-2026-11-24.csv"
        );
        assert_eq!(
            file_name("a\"b/../c@d", "2026-11-24", "jsonl"),
            "security-log-a_b_.._c_d-2026-11-24.jsonl"
        );
    }
}
