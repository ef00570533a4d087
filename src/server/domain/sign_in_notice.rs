//! New sign-in notices (seed 002, "Login Notifications: new device, new location, new
//! browser"): what makes a sign-in new, when the owner is told and when not. Pure
//! rules; the time is an argument.

/// How far back a browser or a place counts as seen.
pub const SEEN_WINDOW_SECS: i64 = 90 * 86_400;
/// Browsers, places and devices are remembered this long after they were last seen
/// (a device cookie's life): an account unused for longer starts afresh.
pub const KEEP_SEEN_SECS: i64 = 400 * 86_400;
/// At most one notice per device in this long.
pub const NOTICE_EVERY_SECS: i64 = 86_400;
/// How long a notice's "This wasn't me" link works.
pub const LINK_SECS: i64 = 7 * 86_400;

/// What was new about a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Novelty {
    Device,
    Location,
    Browser,
}

impl Novelty {
    pub fn as_str(self) -> &'static str {
        match self {
            Novelty::Device => "device",
            Novelty::Location => "location",
            Novelty::Browser => "browser",
        }
    }

    /// "a new device", as the mail and the log say it.
    pub fn words(self) -> &'static str {
        match self {
            Novelty::Device => "a new device",
            Novelty::Location => "a new location",
            Novelty::Browser => "a new browser",
        }
    }
}

/// The owner's switches (Settings > Notifications), all on unless turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switches {
    pub new_device: bool,
    pub new_location: bool,
    pub new_browser: bool,
}

impl Switches {
    pub const ON: Switches = Switches {
        new_device: true,
        new_location: true,
        new_browser: true,
    };

    fn allows(self, n: Novelty) -> bool {
        match n {
            Novelty::Device => self.new_device,
            Novelty::Location => self.new_location,
            Novelty::Browser => self.new_browser,
        }
    }
}

/// What is known about a sign-in that just succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInFacts {
    /// The browser showed a device cookie this account has seen (a sign-in, sign-up or
    /// password reset from it).
    pub known_device: bool,
    /// The account signed in before (within [`KEEP_SEEN_SECS`]).
    pub earlier_sign_ins: bool,
    /// The browser family and OS signed in within [`SEEN_WINDOW_SECS`].
    pub browser_seen: bool,
    /// The place is unknown, or was seen within [`SEEN_WINDOW_SECS`].
    pub place_seen: bool,
    /// When this device was last sent a notice, if ever.
    pub device_notified_at: Option<i64>,
}

/// Why a notice that a sign-in would have had is not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldBack {
    /// The first sign-in of the account (it was created from this browser).
    FirstSignIn,
    /// The owner turned off every switch that applied.
    SwitchedOff,
    /// This device had a notice less than a day ago.
    DailyLimit,
}

impl HeldBack {
    pub fn as_str(self) -> &'static str {
        match self {
            HeldBack::FirstSignIn => "first_sign_in",
            HeldBack::SwitchedOff => "switched_off",
            HeldBack::DailyLimit => "daily_limit",
        }
    }
}

/// What to do about a sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing new: a device seen before.
    Nothing,
    /// Tell the owner what was new.
    Send(Vec<Novelty>),
    /// Something was new, and the owner is not told: why.
    Hold(Vec<Novelty>, HeldBack),
}

/// The rule: a device the account has seen never triggers a notice; otherwise the
/// sign-in comes from a new device, and perhaps a new browser and a new place too.
/// The owner is told what of that their switches ask for, at most once a day per
/// device, and not for the account's first sign-in.
pub fn decide(f: &SignInFacts, switches: Switches, now: i64) -> Decision {
    if f.known_device {
        return Decision::Nothing;
    }
    let mut new = vec![Novelty::Device];
    if !f.browser_seen {
        new.push(Novelty::Browser);
    }
    if !f.place_seen {
        new.push(Novelty::Location);
    }
    if !f.earlier_sign_ins {
        return Decision::Hold(new, HeldBack::FirstSignIn);
    }
    let asked: Vec<Novelty> = new
        .iter()
        .copied()
        .filter(|n| switches.allows(*n))
        .collect();
    if asked.is_empty() {
        return Decision::Hold(new, HeldBack::SwitchedOff);
    }
    if f.device_notified_at
        .is_some_and(|at| now - at < NOTICE_EVERY_SECS)
    {
        return Decision::Hold(asked, HeldBack::DailyLimit);
    }
    Decision::Send(asked)
}

/// Whether `zone` is an IANA time zone the server knows ("Europe/Berlin").
pub fn known_zone(zone: &str) -> bool {
    !zone.is_empty() && zone.len() <= 64 && jiff::tz::TimeZone::get(zone).is_ok()
}

/// "21:15 on 6 Dec 2026 in Europe/Berlin": the moment `at` in the owner's zone.
pub fn in_zone(at: i64, zone: &str) -> Option<String> {
    let tz = jiff::tz::TimeZone::get(zone).ok()?;
    let local = jiff::Timestamp::from_second(at).ok()?.to_zoned(tz);
    Some(format!(
        "{} in {zone}",
        local.strftime("%H:%M on %-d %b %Y")
    ))
}

/// "Chrome on Linux" without versions: what "a new browser" compares.
pub fn browser_key(family: &str, os: &str) -> String {
    format!("{} on {}", family.trim(), os.trim())
}

/// The device cookie's value: a random id and a keyed signature of it, so that a
/// forged or altered cookie is refused before any database read. `sign` is the keyed
/// hash the server makes of an id.
pub fn device_cookie(id: &str, sign: impl Fn(&str) -> Vec<u8>) -> String {
    format!("{id}.{}", signature(id, sign))
}

fn signature(id: &str, sign: impl Fn(&str) -> Vec<u8>) -> String {
    data_encoding::BASE64URL_NOPAD.encode(&sign(id)[..16])
}

/// The id in a device cookie whose signature holds.
pub fn device_id(cookie: &str, sign: impl Fn(&str) -> Vec<u8>) -> Option<String> {
    let (id, sig) = cookie.split_once('.')?;
    use crate::server::domain::tokens::{constant_time_eq, looks_like_token};
    if !looks_like_token(id) {
        return None;
    }
    let expected = signature(id, sign);
    constant_time_eq(expected.as_bytes(), sig.as_bytes()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn facts() -> SignInFacts {
        SignInFacts {
            known_device: false,
            earlier_sign_ins: true,
            browser_seen: true,
            place_seen: true,
            device_notified_at: None,
        }
    }

    #[test]
    fn a_known_device_is_never_news() {
        let f = SignInFacts {
            known_device: true,
            browser_seen: false,
            place_seen: false,
            ..facts()
        };
        assert_eq!(decide(&f, Switches::ON, NOW), Decision::Nothing);
    }

    #[test]
    fn an_unknown_device_tells_what_else_is_new() {
        use Novelty::*;
        assert_eq!(
            decide(&facts(), Switches::ON, NOW),
            Decision::Send(vec![Device])
        );
        let f = SignInFacts {
            browser_seen: false,
            place_seen: false,
            ..facts()
        };
        assert_eq!(
            decide(&f, Switches::ON, NOW),
            Decision::Send(vec![Device, Browser, Location])
        );
    }

    #[test]
    fn the_switches_choose_what_is_told_and_all_off_holds_it_back() {
        use Novelty::*;
        let f = SignInFacts {
            place_seen: false,
            ..facts()
        };
        let only_location = Switches {
            new_device: false,
            new_location: true,
            new_browser: false,
        };
        assert_eq!(
            decide(&f, only_location, NOW),
            Decision::Send(vec![Location])
        );
        let only_browser = Switches {
            new_device: false,
            new_location: false,
            new_browser: true,
        };
        assert_eq!(
            decide(&f, only_browser, NOW),
            Decision::Hold(vec![Device, Location], HeldBack::SwitchedOff)
        );
    }

    #[test]
    fn the_first_sign_in_is_not_news() {
        let f = SignInFacts {
            earlier_sign_ins: false,
            browser_seen: false,
            place_seen: false,
            ..facts()
        };
        assert!(matches!(
            decide(&f, Switches::ON, NOW),
            Decision::Hold(_, HeldBack::FirstSignIn)
        ));
    }

    #[test]
    fn one_notice_per_device_a_day() {
        let at = |ago| SignInFacts {
            device_notified_at: Some(NOW - ago),
            ..facts()
        };
        assert_eq!(
            decide(&at(3_600), Switches::ON, NOW),
            Decision::Hold(vec![Novelty::Device], HeldBack::DailyLimit)
        );
        assert_eq!(
            decide(&at(NOTICE_EVERY_SECS - 1), Switches::ON, NOW),
            Decision::Hold(vec![Novelty::Device], HeldBack::DailyLimit)
        );
        assert_eq!(
            decide(&at(NOTICE_EVERY_SECS), Switches::ON, NOW),
            Decision::Send(vec![Novelty::Device])
        );
    }

    #[test]
    fn times_are_given_in_the_owner_s_zone_when_it_is_known() {
        // 2026-12-06 20:15:00 UTC.
        let at = 1_796_588_100;
        assert_eq!(
            in_zone(at, "Asia/Tokyo").as_deref(),
            Some("05:15 on 7 Dec 2026 in Asia/Tokyo")
        );
        assert_eq!(
            in_zone(at, "Europe/Berlin").as_deref(),
            Some("21:15 on 6 Dec 2026 in Europe/Berlin")
        );
        assert_eq!(in_zone(at, "Mars/Olympus"), None);
        assert!(known_zone("America/New_York"));
        assert!(!known_zone(""));
        assert!(!known_zone("Not/AZone"));
        assert!(!known_zone(&"A".repeat(65)));
    }

    #[test]
    fn a_device_cookie_holds_only_with_its_signature() {
        let sign = |id: &str| {
            let mut v = id.as_bytes().to_vec();
            v.reverse();
            v.resize(32, 7);
            v
        };
        let id = "a".repeat(43);
        let cookie = device_cookie(&id, sign);
        assert_eq!(device_id(&cookie, sign).as_deref(), Some(id.as_str()));
        let other = device_cookie(&"b".repeat(43), sign);
        let forged = format!("{id}.{}", other.split_once('.').unwrap().1);
        assert_eq!(device_id(&forged, sign), None);
        assert_eq!(device_id(&id, sign), None);
        assert_eq!(device_id("short.sig", sign), None);
        assert_eq!(device_id("", sign), None);
    }
}
