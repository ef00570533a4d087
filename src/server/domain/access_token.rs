//! Personal access tokens: their format and the rules of their lifetime.
//!
//! A token is `lk_pat_` + 40 base62 characters from the OS's random source + 6 base62
//! characters of the CRC32 of everything before them. The prefix lets secret scanners
//! find a leaked one; the checksum refuses a typo or a made-up string before any
//! database read. Only a keyed hash of the whole token is stored.
use crate::model::time::{parse_day, utc_midnight};
use crate::model::tokens::{Expiry, Scope, EXPIRY_DAYS, NAME_MAX};
use rand::RngCore;

pub const PREFIX: &str = "lk_pat_";
const BODY_LEN: usize = 40;
const CHECK_LEN: usize = 6;
pub const LEN: usize = PREFIX.len() + BODY_LEN + CHECK_LEN;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DAY: i64 = 86_400;
/// The reminder goes out this long before a token expires.
pub const REMIND_BEFORE_SECS: i64 = 7 * DAY;
/// "Last used" is written at most this often per token.
pub const LAST_USED_EVERY_SECS: i64 = 60;

/// A new token: 40 characters drawn uniformly from base62 (bytes of 248 and above are
/// drawn again, so no character is likelier than another), then the checksum.
pub fn generate() -> String {
    let mut body = String::with_capacity(LEN);
    body.push_str(PREFIX);
    let mut rng = rand::rngs::OsRng;
    let mut buf = [0u8; 64];
    while body.len() < PREFIX.len() + BODY_LEN {
        rng.fill_bytes(&mut buf);
        for b in buf {
            if b < 248 && body.len() < PREFIX.len() + BODY_LEN {
                body.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    let check = checksum(&body);
    body.push_str(&check);
    body
}

/// The 6-character base62 CRC32 of `text` (62^6 > 2^32, so every value fits).
fn checksum(text: &str) -> String {
    let mut n = u64::from(crc32fast::hash(text.as_bytes()));
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` has a token's shape and checksum: what is refused here never reaches
/// the database.
pub fn well_formed(text: &str) -> bool {
    // ASCII only: the split below is at a byte offset (a form field can hold any text).
    if text.len() != LEN || !text.is_ascii() || !text.starts_with(PREFIX) {
        return false;
    }
    let (rest, check) = text.split_at(LEN - CHECK_LEN);
    rest[PREFIX.len()..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric())
        && check.bytes().all(|b| b.is_ascii_alphanumeric())
        && checksum(rest) == check
}

/// The token in an `Authorization` header's value (`Bearer <token>`, the scheme in
/// any case), if there is one.
pub fn from_authorization(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A token's name: trimmed, 1 to 64 characters, no control characters.
pub fn check_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Give the token a name.");
    }
    if name.chars().count() > NAME_MAX {
        return Err("Use at most 64 characters.");
    }
    // Control characters, and the invisible ones that reorder or hide text (bidi
    // overrides, zero-width characters) in the log, the mails and the page.
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
    };
    if name.chars().any(invisible) {
        return Err("Use letters, digits, spaces and punctuation only.");
    }
    Ok(name.to_string())
}

/// At least one permission.
pub fn check_scopes(names: &[String]) -> Result<Vec<Scope>, &'static str> {
    let mut scopes = Vec::new();
    for n in names {
        scopes.push(Scope::parse(n).ok_or("That permission does not exist.")?);
    }
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err("Choose at least one permission.");
    }
    Ok(scopes)
}

/// When a token chosen now expires (`None`: never). A date means the end of that day
/// (UTC), from tomorrow up to `max_days` from now; "never" only where the operator
/// allows it.
pub fn expires_at(
    choice: &Expiry,
    now: i64,
    max_days: u32,
    allow_never: bool,
) -> Result<Option<i64>, &'static str> {
    match choice {
        Expiry::Days(d) if EXPIRY_DAYS.contains(d) && *d <= max_days => {
            Ok(Some(now + i64::from(*d) * DAY))
        }
        Expiry::Days(_) => Err("Choose one of the offered expirations."),
        Expiry::Never if allow_never => Ok(None),
        Expiry::Never => Err("Tokens must expire on this server. Choose a date."),
        Expiry::Date(day) => {
            let (y, m, d) = parse_day(day).ok_or("Enter a date as YYYY-MM-DD.")?;
            let end = utc_midnight(y, m, d) + DAY;
            if end <= now + DAY / 2 {
                return Err("Choose a date after today.");
            }
            if end > now + i64::from(max_days) * DAY + DAY {
                return Err("That date is too far away.");
            }
            Ok(Some(end))
        }
    }
}

/// Whether a token with this expiry is past it.
pub fn expired(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_some_and(|e| e <= now)
}

/// Whether "last used" should be written again.
pub fn last_used_due(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|t| now - t >= LAST_USED_EVERY_SECS)
}

/// Requests per token in the minute starting at `window_start`: the window of `now`.
pub fn rate_window(now: i64) -> i64 {
    now - now.rem_euclid(60)
}

/// The most one reservation takes from a token's minute: a sixteenth of the
/// allowance. An instance holds at most this many unused requests, so with several
/// instances a busy token may be refused up to this many requests early per other
/// instance; it is never let past its allowance.
pub fn share_cap(per_minute: i64) -> i64 {
    (per_minute / 16).max(1)
}

/// What [`Lease::take`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// One request of this instance's share, taken.
    Took,
    /// The token's minute is used up (the database granted nothing): refuse.
    UsedUp,
    /// Nothing left here: reserve more from the database.
    Empty,
}

/// One instance's share of one token's requests in one minute. The database row
/// counts what every instance reserved (never more than the allowance); the instance
/// counts its requests against its share in memory, so most API requests write
/// nothing. The first reservation of a minute takes one request, each next one twice
/// the last, up to [`share_cap`]: a token used once a minute reserves once, a busy
/// one once per many requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lease {
    window: i64,
    left: i64,
    last_grant: i64,
    used_up: bool,
}

impl Lease {
    fn enter(&mut self, window: i64) {
        if self.window != window {
            *self = Lease {
                window,
                ..Lease::default()
            };
        }
    }

    /// Whether this is a share of the minute `window`.
    pub fn is_of(&self, window: i64) -> bool {
        self.window == window
    }

    /// Takes one request in the minute `window`.
    pub fn take(&mut self, window: i64) -> Take {
        self.enter(window);
        if self.left > 0 {
            self.left -= 1;
            Take::Took
        } else if self.used_up {
            Take::UsedUp
        } else {
            Take::Empty
        }
    }

    /// How many requests to reserve next in the minute `window`.
    pub fn want(&mut self, window: i64, per_minute: i64) -> i64 {
        self.enter(window);
        (self.last_grant.saturating_mul(2)).clamp(1, share_cap(per_minute))
    }

    /// The database granted `n` requests of the minute `window` (0: it is used up).
    pub fn granted(&mut self, window: i64, n: i64) {
        self.enter(window);
        if n <= 0 {
            self.used_up = true;
        } else {
            self.left += n;
            self.last_grant = n;
        }
    }
}

/// What a reservation of `want` requests gets when `reserved` of the minute's
/// `per_minute` are reserved already (the database computes the same in its
/// statement; this is the rule it follows).
pub fn grant(reserved: i64, want: i64, per_minute: i64) -> i64 {
    want.min(per_minute - reserved).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_has_the_prefix_the_length_and_a_valid_checksum() {
        let t = generate();
        assert_eq!(t.len(), LEN);
        assert_eq!(LEN, 53);
        assert!(t.starts_with("lk_pat_"));
        assert!(t[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(well_formed(&t), "{t}");
        assert_ne!(generate(), t);
    }

    #[test]
    fn every_single_character_change_is_refused_by_the_checksum() {
        let t = generate();
        for i in PREFIX.len()..LEN {
            for c in BASE62 {
                let mut b = t.clone().into_bytes();
                if b[i] == *c {
                    continue;
                }
                b[i] = *c;
                let changed = String::from_utf8(b).unwrap();
                assert!(!well_formed(&changed), "{changed} passed");
            }
        }
    }

    #[test]
    fn shapes_other_than_a_token_are_refused() {
        let t = generate();
        assert!(!well_formed(""));
        assert!(!well_formed(&t[1..]));
        assert!(!well_formed(&format!("{t}0")));
        assert!(!well_formed(&t.replacen("lk_pat_", "lk_pak_", 1)));
        assert!(!well_formed(&format!("lk_pat_{}", "a".repeat(46))));
        // Non-ASCII of the same byte length.
        let odd = format!("{}é{}", &t[..20], &t[22..]);
        assert!(!well_formed(&odd));
        // Across the checksum's first byte, where a split at a byte offset would fall
        // inside the character (a form field can hold any text).
        let straddling = format!("{}é{}", &t[..46], &t[48..]);
        assert_eq!(straddling.len(), LEN);
        assert!(!well_formed(&straddling));
    }

    #[test]
    fn the_checksum_is_six_base62_characters_of_crc32() {
        assert_eq!(checksum(""), "000000");
        // crc32("lk_pat_") in base62, by hand: the value, then its digits.
        let n = crc32fast::hash(b"lk_pat_") as u64;
        let c = checksum("lk_pat_");
        let back = c.bytes().fold(0u64, |acc, b| {
            acc * 62 + BASE62.iter().position(|x| *x == b).unwrap() as u64
        });
        assert_eq!(back, n);
    }

    #[test]
    fn the_bearer_token_is_read_from_the_header() {
        assert_eq!(from_authorization("Bearer abc"), Some("abc"));
        assert_eq!(from_authorization("bearer  abc "), Some("abc"));
        assert_eq!(from_authorization("Basic abc"), None);
        assert_eq!(from_authorization("Bearer "), None);
        assert_eq!(from_authorization("Bearer"), None);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  CI deploy "), Ok("CI deploy".into()));
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(64)).is_ok());
        assert!(check_name(&"x".repeat(65)).is_err());
        assert!(check_name(&"é".repeat(64)).is_ok());
        assert!(check_name("a\nb").is_err());
        assert!(check_name("deploy\u{202E}yolpe").is_err());
        assert!(check_name("a\u{200B}b").is_err());
    }

    #[test]
    fn at_least_one_known_permission() {
        assert_eq!(
            check_scopes(&[
                "tokens:read".into(),
                "account:read".into(),
                "tokens:read".into()
            ]),
            Ok(vec![Scope::AccountRead, Scope::TokensRead])
        );
        assert!(check_scopes(&[]).is_err());
        assert!(check_scopes(&["admin".into()]).is_err());
    }

    #[test]
    fn expirations_are_the_offered_days_a_date_in_range_or_never_when_allowed() {
        let now = utc_midnight(2026, 12, 5) + 15 * 3600;
        assert_eq!(
            expires_at(&Expiry::Days(30), now, 366, false),
            Ok(Some(now + 30 * DAY))
        );
        assert!(expires_at(&Expiry::Days(31), now, 366, false).is_err());
        assert!(expires_at(&Expiry::Days(90), now, 60, false).is_err());
        assert_eq!(expires_at(&Expiry::Never, now, 366, true), Ok(None));
        assert!(expires_at(&Expiry::Never, now, 366, false).is_err());
        let date = |d: &str| expires_at(&Expiry::Date(d.into()), now, 366, false);
        assert_eq!(date("2026-12-06"), Ok(Some(utc_midnight(2026, 12, 7))));
        assert!(date("2026-12-05").is_err(), "today");
        assert!(date("2026-12-04").is_err());
        assert!(date("2027-12-06").is_ok());
        assert!(date("2027-12-08").is_err(), "past 366 days");
        assert!(date("06/12/2026").is_err());
    }

    #[test]
    fn expiry_last_use_and_rate_windows() {
        assert!(!expired(None, 10));
        assert!(!expired(Some(11), 10));
        assert!(expired(Some(10), 10));
        assert!(last_used_due(None, 0));
        assert!(!last_used_due(Some(100), 159));
        assert!(last_used_due(Some(100), 160));
        assert_eq!(rate_window(125), 120);
        assert_eq!(rate_window(120), 120);
    }

    #[test]
    fn a_lease_starts_at_one_doubles_and_stops_at_a_sixteenth() {
        let mut l = Lease::default();
        assert_eq!(l.take(60), Take::Empty);
        assert_eq!(l.want(60, 600), 1);
        l.granted(60, 1);
        assert_eq!(l.take(60), Take::Took);
        assert_eq!(l.take(60), Take::Empty);
        let mut wants = vec![];
        for _ in 0..8 {
            let w = l.want(60, 600);
            wants.push(w);
            l.granted(60, w);
            for _ in 0..w {
                assert_eq!(l.take(60), Take::Took);
            }
            assert_eq!(l.take(60), Take::Empty);
        }
        assert_eq!(wants, [2, 4, 8, 16, 32, 37, 37, 37]);
        assert_eq!(share_cap(600), 37);
        assert_eq!(share_cap(10), 1);
        assert_eq!(share_cap(1_000_000), 62_500);
    }

    #[test]
    fn a_used_up_minute_refuses_until_the_next_minute_which_starts_afresh() {
        let mut l = Lease::default();
        l.granted(60, 3);
        l.granted(60, 0);
        for _ in 0..3 {
            assert_eq!(l.take(60), Take::Took);
        }
        assert_eq!(l.take(60), Take::UsedUp);
        assert_eq!(l.take(60), Take::UsedUp);
        // What is left of a minute is not carried into the next.
        l.granted(120, 5);
        assert_eq!(l.take(180), Take::Empty);
        assert_eq!(l.want(180, 600), 1);
    }

    #[test]
    fn a_grant_never_takes_the_minute_past_its_allowance() {
        assert_eq!(grant(0, 1, 40), 1);
        assert_eq!(grant(38, 4, 40), 2);
        assert_eq!(grant(40, 4, 40), 0);
        assert_eq!(grant(45, 4, 40), 0);
        // However reservations of any size interleave, their sum stops at the allowance.
        let (mut reserved, mut want) = (0, 1);
        while grant(reserved, want, 600) > 0 {
            reserved += grant(reserved, want, 600);
            want = (want * 2).min(share_cap(600));
        }
        assert_eq!(reserved, 600);
    }
}
