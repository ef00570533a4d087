//! Passkeys (WebAuthn) as rules: how many an account may have, how long a ceremony
//! lasts, what a passkey is called, and what its signature counter may do. No I/O; the
//! current time is an argument.
use super::access_token::check_name;
use crate::model::mfa::MAX_PASSKEYS;

/// A ceremony (adding a passkey, signing in with one) must finish within this.
pub const CEREMONY_SECS: i64 = 300;

/// Whether a ceremony begun at `created_at` is over at `now`.
pub fn ceremony_expired(created_at: i64, now: i64) -> bool {
    now - created_at >= CEREMONY_SECS
}

/// Whether another passkey may be added to an account that has `count`.
pub fn may_add(count: i64) -> bool {
    count < MAX_PASSKEYS as i64
}

/// A passkey's name as its owner gives it: trimmed, 1 to 64 characters, nothing
/// invisible (the same rule as an access token's name).
pub fn check_passkey_name(name: &str) -> Result<String, &'static str> {
    check_name(name).map_err(|e| {
        if e.starts_with("Give") {
            "Give the passkey a name."
        } else {
            e
        }
    })
}

/// The name a new passkey gets: the provider's, from the authenticator's AAGUID where
/// it is a known one, else "Passkey". (The AAGUIDs are those the providers publish in
/// the community list passkey-authenticator-aaguids.)
pub fn default_name(aaguid: &str) -> &'static str {
    match aaguid.to_ascii_lowercase().as_str() {
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4" => "Google Password Manager",
        "adce0002-35bc-c60a-648b-0b25f1f05503" => "Chrome on Mac",
        "fbfc3007-154e-4ecc-8c0b-6e020557d7bd" => "iCloud Keychain",
        "dd4ec289-e01d-41c9-bb89-70fa845d4bf2" => "iCloud Keychain (Managed)",
        "08987058-cadc-4b81-b6e1-30de50dcbe96"
        | "9ddd1817-af5a-4672-a2b9-3e3dd95000a9"
        | "6028b017-b1d4-4c02-b4b3-afcdafc96bb2" => "Windows Hello",
        "bada5566-a7aa-401f-bd96-45619a55120d" => "1Password",
        "d548826e-79b4-db40-a3d8-11116f7e8349" => "Bitwarden",
        "531126d6-e717-415c-9320-3d9aa6981239" => "Dashlane",
        "b84e4048-15dc-4dd0-8640-f4f60813c8af" => "NordPass",
        "0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6" => "Keeper",
        "53414d53-554e-4700-0000-000000000000" => "Samsung Pass",
        "cb69481e-8ff7-4039-93ec-0a2729a154a8"
        | "ee882879-721c-4913-9775-3dfcce97072a"
        | "fa2b99dc-9e39-4257-8f92-4a30d23c4118"
        | "2fc0579f-8113-47ea-b116-bb5a8db9202a" => "YubiKey 5",
        _ => "Passkey",
    }
}

/// What a signature counter in an assertion says, against the one stored: authenticators
/// that keep no counter (most synced passkeys) send 0 every time; one that does must
/// send more than last time, else the credential may have been copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// No counter kept (both 0).
    NotKept,
    Advanced,
    /// Equal or lower than the stored one: refused, logged.
    WentBack,
}

pub fn judge_counter(stored: u32, presented: u32) -> Counter {
    if stored == 0 && presented == 0 {
        Counter::NotKept
    } else if presented > stored {
        Counter::Advanced
    } else {
        Counter::WentBack
    }
}

/// What a new credential's authenticator data says besides its key: the AAGUID (the
/// authenticator's model, for the default name) and the backup flags (WebAuthn
/// §6.1: flags at byte 32, BE = 0x08, BS = 0x10; the AAGUID at bytes 37..53 when
/// attested credential data is present, AT = 0x40).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthData {
    pub aaguid: Option<String>,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

pub fn read_auth_data(auth_data: &[u8]) -> Option<AuthData> {
    let flags = *auth_data.get(32)?;
    let aaguid = if flags & 0x40 != 0 {
        let b = auth_data.get(37..53)?;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Some(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    } else {
        None
    };
    Some(AuthData {
        aaguid,
        backup_eligible: flags & 0x08 != 0,
        backed_up: flags & 0x10 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticator_data_gives_the_aaguid_and_backup_flags() {
        let mut data = vec![0u8; 37];
        data[32] = 0x45 | 0x08 | 0x10; // UP, UV, AT, BE, BS
        data.extend_from_slice(&[
            0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5,
            0x75, 0xd4,
        ]);
        let read = read_auth_data(&data).unwrap();
        assert_eq!(
            read.aaguid.as_deref(),
            Some("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
        );
        assert!(read.backup_eligible && read.backed_up);
        assert_eq!(
            default_name(&read.aaguid.unwrap()),
            "Google Password Manager"
        );
        data[32] = 0x05; // no attested data, no backup
        let read = read_auth_data(&data).unwrap();
        assert_eq!(read.aaguid, None);
        assert!(!read.backup_eligible && !read.backed_up);
        assert_eq!(read_auth_data(&[0; 10]), None);
    }

    #[test]
    fn a_ceremony_lasts_five_minutes() {
        assert!(!ceremony_expired(1000, 1000));
        assert!(!ceremony_expired(1000, 1299));
        assert!(ceremony_expired(1000, 1300));
    }

    #[test]
    fn ten_passkeys_at_most() {
        assert!(may_add(0));
        assert!(may_add(9));
        assert!(!may_add(10));
        assert!(!may_add(11));
    }

    #[test]
    fn names_are_tidied_and_bounded() {
        assert_eq!(check_passkey_name("  Laptop  ").unwrap(), "Laptop");
        assert_eq!(
            check_passkey_name(" ").unwrap_err(),
            "Give the passkey a name."
        );
        assert!(check_passkey_name(&"x".repeat(64)).is_ok());
        assert!(check_passkey_name(&"x".repeat(65)).is_err());
        assert!(check_passkey_name("a\u{202E}b").is_err());
    }

    #[test]
    fn known_authenticators_are_named_and_others_are_passkeys() {
        assert_eq!(
            default_name("EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4"),
            "Google Password Manager"
        );
        assert_eq!(
            default_name("fbfc3007-154e-4ecc-8c0b-6e020557d7bd"),
            "iCloud Keychain"
        );
        assert_eq!(
            default_name("00000000-0000-0000-0000-000000000000"),
            "Passkey"
        );
        assert_eq!(default_name(""), "Passkey");
    }

    #[test]
    fn a_counter_must_advance_once_kept() {
        assert_eq!(judge_counter(0, 0), Counter::NotKept);
        assert_eq!(judge_counter(0, 1), Counter::Advanced);
        assert_eq!(judge_counter(5, 6), Counter::Advanced);
        assert_eq!(judge_counter(5, 5), Counter::WentBack);
        assert_eq!(judge_counter(5, 2), Counter::WentBack);
        assert_eq!(judge_counter(5, 0), Counter::WentBack);
    }
}
