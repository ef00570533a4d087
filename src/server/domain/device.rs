//! "Chrome on Linux" from a User-Agent header, for notices and (later) the sessions list.
use woothee::parser::Parser;

pub fn describe(user_agent: &str) -> String {
    match Parser::new().parse(user_agent) {
        Some(r) if r.name != "UNKNOWN" && r.os != "UNKNOWN" => format!("{} on {}", r.name, r.os),
        Some(r) if r.name != "UNKNOWN" => r.name.to_string(),
        _ if user_agent.trim().is_empty() => "an unknown device".to_string(),
        _ => user_agent.chars().take(80).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn names_browser_and_system() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(describe(ua), "Chrome on Linux");
        assert_eq!(describe(""), "an unknown device");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe(firefox), "Firefox on Windows 10");
        assert_eq!(
            describe("SomethingNobodyKnows/0.1"),
            "SomethingNobodyKnows/0.1"
        );
    }
}
