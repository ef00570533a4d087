//! Authenticator-app codes (RFC 6238): 160-bit secrets, SHA-1, 6 digits, 30-second
//! steps, the current step and one either side accepted, each step at most once.
use data_encoding::BASE32_NOPAD;
use rand::RngCore;
use totp_rs::{Algorithm, TOTP};

pub const STEP_SECS: u64 = 30;
pub const DIGITS: usize = 6;

/// 160 random bits.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The secret as people type it into an app: base32, in groups of four.
pub fn grouped_base32(secret: &[u8]) -> String {
    let b32 = BASE32_NOPAD.encode(secret);
    b32.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `otpauth://totp/Issuer:account?secret=…&issuer=…` as authenticator apps read it.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        escape(issuer),
        escape(account),
        BASE32_NOPAD.encode(secret),
        escape(issuer)
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The code matches this time step, later than any step used before.
    Accepted(i64),
    /// The code matches a step that was already used.
    Replayed,
    Invalid,
}

/// Only the digits of what was typed ("123 456" and "123456" are the same code).
pub fn normalize_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

fn totp(secret: &[u8], algorithm: Algorithm, digits: usize) -> Option<TOTP> {
    TOTP::new(algorithm, digits, 0, STEP_SECS, secret.to_vec()).ok()
}

/// The code for the step containing `unix` (used by tests and by RFC vectors).
pub fn code_at(secret: &[u8], unix: u64) -> String {
    totp(secret, Algorithm::SHA1, DIGITS)
        .map(|t| t.generate(unix))
        .unwrap_or_default()
}

/// Checks a code against the steps around `now`, refusing any step at or before
/// `last_used_step`.
pub fn check(secret: &[u8], input: &str, now: i64, last_used_step: Option<i64>) -> Check {
    let (Some(code), Some(t)) = (normalize_code(input), totp(secret, Algorithm::SHA1, DIGITS))
    else {
        return Check::Invalid;
    };
    let current = now.div_euclid(STEP_SECS as i64);
    let mut result = Check::Invalid;
    for step in [current - 1, current, current + 1] {
        if step < 0 {
            continue;
        }
        let expected = t.generate(step as u64 * STEP_SECS);
        // Every candidate is compared, in constant time, whatever matched before.
        if super::tokens::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            result = match last_used_step {
                Some(last) if step <= last => Check::Replayed,
                _ => Check::Accepted(step),
            };
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238, Appendix B: (time, SHA-1, SHA-256, SHA-512), 8 digits.
    const VECTORS: [(u64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        let sha1 = b"12345678901234567890".to_vec();
        let sha256 = b"12345678901234567890123456789012".to_vec();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
        for (time, c1, c256, c512) in VECTORS {
            assert_eq!(
                totp(&sha1, Algorithm::SHA1, 8).unwrap().generate(time),
                c1,
                "SHA-1 at {time}"
            );
            assert_eq!(
                totp(&sha256, Algorithm::SHA256, 8).unwrap().generate(time),
                c256,
                "SHA-256 at {time}"
            );
            assert_eq!(
                totp(&sha512, Algorithm::SHA512, 8).unwrap().generate(time),
                c512,
                "SHA-512 at {time}"
            );
        }
        // Our six-digit codes are the last six digits of the same values.
        assert_eq!(code_at(&sha1, 59), "287082");
    }

    #[test]
    fn accepts_the_current_step_and_one_either_side() {
        let secret = new_secret();
        let now = 1_800_000_015; // step 60_000_000
        for offset in [-30, 0, 30] {
            let code = code_at(&secret, (now + offset) as u64);
            assert_eq!(
                check(&secret, &code, now, None),
                Check::Accepted((now + offset) / 30),
                "offset {offset}"
            );
        }
        for offset in [-60, 60] {
            let code = code_at(&secret, (now + offset) as u64);
            assert_eq!(
                check(&secret, &code, now, None),
                Check::Invalid,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn a_step_is_accepted_once() {
        let secret = new_secret();
        let now = 1_800_000_015;
        let code = code_at(&secret, now as u64);
        let Check::Accepted(step) = check(&secret, &code, now, None) else {
            panic!()
        };
        assert_eq!(check(&secret, &code, now, Some(step)), Check::Replayed);
        // An older step is refused as well once a later one was used.
        let older = code_at(&secret, (now - 30) as u64);
        assert_eq!(check(&secret, &older, now, Some(step)), Check::Replayed);
        let next = code_at(&secret, (now + 30) as u64);
        assert_eq!(
            check(&secret, &next, now + 30, Some(step)),
            Check::Accepted(step + 1)
        );
    }

    #[test]
    fn malformed_codes_are_invalid() {
        let secret = new_secret();
        for bad in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(
                check(&secret, bad, 1_800_000_015, None),
                Check::Invalid,
                "{bad:?}"
            );
        }
        let code = code_at(&secret, 1_800_000_015);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(matches!(
            check(&secret, &spaced, 1_800_000_015, None),
            Check::Accepted(_)
        ));
    }

    #[test]
    fn secrets_and_uris() {
        let secret = new_secret();
        assert_eq!(secret.len(), 20);
        let grouped = grouped_base32(&secret);
        assert_eq!(grouped.replace(' ', "").len(), 32);
        assert!(grouped.split(' ').all(|g| g.len() == 4));
        let uri = otpauth_uri("Latchkey", "ada+mfa@example.com", &secret);
        assert!(
            uri.starts_with("otpauth://totp/Latchkey:ada%2Bmfa@example.com?secret="),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", grouped.replace(' ', ""))));
        assert!(uri.contains("&issuer=Latchkey&algorithm=SHA1&digits=6&period=30"));
    }
}
