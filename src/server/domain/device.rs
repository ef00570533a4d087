//! "Chrome on Linux" from a User-Agent header, for notices and the sessions list.
use crate::model::sessions::DeviceKind;
use woothee::parser::Parser;

/// Desktop, phone or tablet. woothee files tablets under "smartphone": an iPad, and
/// an Android browser that does not say "Mobile" (Android's own convention), are
/// tablets.
pub fn kind(user_agent: &str) -> DeviceKind {
    match Parser::new().parse(user_agent) {
        Some(r) if r.category == "pc" => DeviceKind::Desktop,
        Some(r) if r.category == "smartphone" || r.category == "mobilephone" => {
            if r.os == "iPad" || (r.os == "Android" && !user_agent.contains("Mobile")) {
                DeviceKind::Tablet
            } else {
                DeviceKind::Phone
            }
        }
        _ => DeviceKind::Unknown,
    }
}

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
    use super::{describe, kind};
    use crate::model::sessions::DeviceKind;

    #[test]
    fn tells_desktops_phones_and_tablets_apart() {
        let linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        let ipad = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        let android_phone = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
        let android_tablet = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(kind(linux), DeviceKind::Desktop);
        assert_eq!(kind(iphone), DeviceKind::Phone);
        assert_eq!(kind(ipad), DeviceKind::Tablet);
        assert_eq!(kind(android_phone), DeviceKind::Phone);
        assert_eq!(kind(android_tablet), DeviceKind::Tablet);
        assert_eq!(kind(""), DeviceKind::Unknown);
        assert_eq!(kind("curl/8.5.0"), DeviceKind::Unknown);
    }

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
