//! Multi-factor authentication as the Security page sees it.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaStatus {
    /// When the authenticator app was enabled; `None` when it is not.
    pub totp_enabled_at: Option<i64>,
    pub recovery_codes_left: usize,
    /// Methods can be turned on only once the account's address is verified.
    pub email_verified: bool,
    /// When Email Code was turned on; `None` when it is off.
    pub email_code_enabled_at: Option<i64>,
    /// The address email codes go to (the account's).
    pub email: String,
    /// When SMS Code was turned on; `None` when it is off.
    pub sms_enabled_at: Option<i64>,
    /// The number SMS codes go to, masked (`+44 •••• ••• 123`).
    pub sms_number: Option<String>,
    /// Whether this server sends text messages at all (settings `sms.*`).
    pub sms_available: bool,
    /// The country assumed for a number typed without + (settings `sms.default_country`).
    pub sms_default_country: String,
    /// The countries whose numbers can receive codes (settings `sms.countries`).
    #[serde(default)]
    pub sms_countries: Vec<String>,
    /// The recovery codes were of the old, shorter format and were removed: the page
    /// asks the owner to regenerate.
    #[serde(default)]
    pub recovery_codes_retired: bool,
    /// The account's passkeys, oldest first.
    #[serde(default)]
    pub passkeys: Vec<PasskeyInfo>,
    /// Whether this site offers passkeys (its public address is a domain name).
    #[serde(default)]
    pub passkeys_available: bool,
}

/// At most this many passkeys per account.
pub const MAX_PASSKEYS: usize = 10;

/// What an account that has its ten passkeys is told (the page, and a refused add).
pub const PASSKEYS_FULL: &str =
    "You have 10 passkeys, the most an account can have. Remove one you no longer use to add another.";

/// A passkey as its owner's Security page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Synced to the provider's cloud (backed up), as the authenticator last said.
    pub synced: bool,
}

impl MfaStatus {
    pub fn active(&self) -> Vec<Method> {
        let mut methods = Vec::new();
        if self.totp_enabled_at.is_some() {
            methods.push(Method::Totp);
        }
        if self.email_code_enabled_at.is_some() {
            methods.push(Method::Email);
        }
        if self.sms_enabled_at.is_some() {
            methods.push(Method::Sms);
        }
        if !self.passkeys.is_empty() {
            methods.push(Method::Passkey);
        }
        methods
    }
}

/// What signing in asks for once a change leaves `remaining` methods on, in the words
/// both the owner's notice and the Security page use ("signing in still asks for a
/// code sent by SMS"). The one place that words it, so the two cannot disagree.
pub fn sign_in_after(remaining: &[Method]) -> String {
    let asks: Vec<&str> = remaining
        .iter()
        .filter_map(|m| match m {
            Method::Totp => Some("a code from your authenticator app"),
            Method::Email => Some("a code sent to your email"),
            Method::Sms => Some("a code sent by SMS"),
            Method::Passkey => Some("your passkey"),
            Method::Recovery => None,
        })
        .collect();
    match asks.as_slice() {
        [] => "signing in needs only your password".to_string(),
        [one] => format!("signing in still asks for {one}"),
        [rest @ .., last] => format!("signing in still asks for {} or {last}", rest.join(", ")),
    }
}

/// The countries whose numbers can receive SMS codes unless the operator narrows them
/// (setting `sms.countries`), offered as the hint for a number typed without `+` (ISO
/// code, name, calling code). Numbers elsewhere are refused: text messages to some
/// destinations cost many times more, and fraudsters pump them (toll fraud).
pub const SMS_COUNTRIES: &[(&str, &str, &str)] = &[
    ("AR", "Argentina", "+54"),
    ("AU", "Australia", "+61"),
    ("AT", "Austria", "+43"),
    ("BE", "Belgium", "+32"),
    ("BR", "Brazil", "+55"),
    ("CA", "Canada", "+1"),
    ("CH", "Switzerland", "+41"),
    ("CZ", "Czechia", "+420"),
    ("DE", "Germany", "+49"),
    ("DK", "Denmark", "+45"),
    ("ES", "Spain", "+34"),
    ("FI", "Finland", "+358"),
    ("FR", "France", "+33"),
    ("GB", "United Kingdom", "+44"),
    ("IE", "Ireland", "+353"),
    ("IN", "India", "+91"),
    ("IT", "Italy", "+39"),
    ("JP", "Japan", "+81"),
    ("MX", "Mexico", "+52"),
    ("NL", "Netherlands", "+31"),
    ("NO", "Norway", "+47"),
    ("NZ", "New Zealand", "+64"),
    ("PL", "Poland", "+48"),
    ("PT", "Portugal", "+351"),
    ("SE", "Sweden", "+46"),
    ("SG", "Singapore", "+65"),
    ("UA", "Ukraine", "+380"),
    ("US", "United States", "+1"),
    ("ZA", "South Africa", "+27"),
];

/// A second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Totp,
    Email,
    Sms,
    Recovery,
    /// A passkey (WebAuthn, user verification required): the strongest method.
    Passkey,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Email => "email",
            Method::Sms => "sms",
            Method::Recovery => "recovery",
            Method::Passkey => "passkey",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        [
            Method::Totp,
            Method::Email,
            Method::Sms,
            Method::Recovery,
            Method::Passkey,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }

    /// How the sign-in page offers it.
    pub fn label(self) -> &'static str {
        match self {
            Method::Totp => "Authenticator app",
            Method::Email => "Email code",
            Method::Sms => "SMS code",
            Method::Recovery => "Recovery code",
            Method::Passkey => "Passkey",
        }
    }
}

/// The method whose code shows or regenerates the recovery codes: a passkey when there
/// is one, else the authenticator app, else a code by email, else by SMS (any active
/// method will do; the codes open the account only as the second step after the
/// password).
pub fn codes_proof(active: &[Method]) -> Option<Method> {
    [Method::Passkey, Method::Totp, Method::Email, Method::Sms]
        .into_iter()
        .find(|m| active.contains(m))
}

/// What step 1 of turning a method on asks for (seed 003).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityProof {
    Password,
    AuthenticatorCode,
    EmailCode,
    /// The browser's passkey prompt (its answer goes where a code would).
    Passkey,
}

impl IdentityProof {
    /// A method already on when there is one (a passkey first, then the authenticator
    /// app, then email), else the password. SMS, the weakest method, never vouches for
    /// adding another: with only SMS on, the password is asked.
    pub fn for_adding(adding: Method, active: &[Method]) -> IdentityProof {
        let other = |m: Method| m != adding && active.contains(&m);
        if other(Method::Passkey) {
            IdentityProof::Passkey
        } else if other(Method::Totp) {
            IdentityProof::AuthenticatorCode
        } else if other(Method::Email) {
            IdentityProof::EmailCode
        } else {
            IdentityProof::Password
        }
    }
}

/// A code was sent: where to (as shown), and how long until another may be asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSent {
    pub to: String,
    pub resend_in: u64,
    /// How long the code stays valid.
    pub valid_secs: u64,
}

/// What the page says after an early resend was refused: the code sent a moment ago
/// still works.
pub const SENT_A_MOMENT_AGO: &str =
    "We sent a code a moment ago and it still works. Check your inbox, or request another once the countdown ends.";

impl CodeSent {
    /// "We sent a 6-digit code to … It is valid for 10 minutes."
    pub fn note(&self) -> String {
        format!("We sent a 6-digit code to {}. {}", self.to, self.validity())
    }

    /// "It is valid for 10 minutes." (or seconds, below a minute).
    pub fn validity(&self) -> String {
        let m = self.valid_secs / 60;
        match (m, self.valid_secs) {
            (0, s) => format!(
                "It is valid for {s} second{}.",
                if s == 1 { "" } else { "s" }
            ),
            (1, _) => "It is valid for 1 minute.".into(),
            (m, _) => format!("It is valid for {m} minutes."),
        }
    }
}

/// What the second step of sign-in offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// The methods to choose from, recovery codes last when there are any.
    pub methods: Vec<Method>,
    /// The one chosen first: the last one used, else the first.
    pub preferred: Method,
    /// Where email codes go, masked.
    pub email_hint: String,
    /// Email Code is on but held back (see [`email_code_held`]): the page says why.
    #[serde(default)]
    pub email_held: bool,
    /// The codes already sent for this sign-in and still valid, by channel (Email,
    /// Sms): the page shows them instead of sending again.
    #[serde(default)]
    pub sent: Vec<(Method, CodeSent)>,
}

impl SignInOptions {
    /// Picks the method offered first: a passkey whenever there is one (it cannot be
    /// phished); else the one used last time when it is still on (SMS only when no
    /// stronger method is on), else the authenticator app, else email (recovery codes
    /// only as a last resort).
    pub fn choose(methods: Vec<Method>, last: Option<Method>, email_hint: String) -> SignInOptions {
        // SMS, the weakest, is chosen first only when nothing else is on.
        let stronger_on = methods
            .iter()
            .any(|m| matches!(m, Method::Totp | Method::Email | Method::Passkey));
        let passkey = methods
            .contains(&Method::Passkey)
            .then_some(Method::Passkey);
        let preferred = passkey
            .or(last)
            .filter(|m| methods.contains(m) && *m != Method::Recovery)
            .filter(|m| !(*m == Method::Sms && stronger_on))
            .or_else(|| methods.iter().copied().find(|m| *m != Method::Recovery))
            .unwrap_or(Method::Recovery);
        SignInOptions {
            methods,
            preferred,
            email_hint,
            email_held: false,
            sent: Vec::new(),
        }
    }
}

/// After the password was reset through an emailed link, whoever holds the mailbox
/// must not also pass the second step with a code sent to that same mailbox: while the
/// account has another method on, an email code neither completes a sign-in nor proves
/// identity, until a sign-in completes with one of the others (or a recovery code). An
/// account whose only method is Email Code keeps it: its owner chose the mailbox.
pub fn email_code_held(reset_by_link: bool, active: &[Method]) -> bool {
    reset_by_link
        && active
            .iter()
            .any(|m| !matches!(m, Method::Email | Method::Recovery))
}

/// What the Security page's Email Code block says while another method is on.
pub const EMAIL_CODE_AFTER_RESET: &str = "If your password is reset by email link, the next sign-in asks for another method or a recovery code: a code sent to your email is not accepted until then.";

/// What the sign-in page says about [`email_code_held`].
pub const EMAIL_CODE_HELD: &str = "Your password was reset by email link, so a code sent to your email is not accepted until you sign in once with another method: a passkey, your authenticator app, an SMS code or a recovery code.";

/// Step 2 of enabling: what the app needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    /// An SVG image of the `otpauth://` URI, rendered on the server.
    pub qr_svg: String,
    /// The same secret as text, base32 in groups of four.
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCode {
    pub code: String,
    pub used: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub account: String,
    /// When they were shown (Unix seconds), for the downloaded file.
    pub at: i64,
    pub codes: Vec<RecoveryCode>,
}

impl RecoveryCodes {
    pub fn left(&self) -> usize {
        self.codes.iter().filter(|c| !c.used).count()
    }

    /// The content of the downloaded .txt file.
    pub fn as_text(&self, date: &str) -> String {
        let mut text = format!(
            "Latchkey recovery codes\nAccount: {}\nGenerated: {date}\n\n\
             Each code signs you in once if you cannot use your authenticator app.\n\
             Keep them somewhere safe, such as a password manager.\n\n",
            self.account
        );
        for c in self.codes.iter().filter(|c| !c.used) {
            text.push_str(&c.code);
            text.push('\n');
        }
        text
    }
}

/// What a sign-in needs next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecondFactor {
    Totp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_codes_wait_after_a_reset_by_link_while_another_method_is_on() {
        use Method::*;
        assert!(email_code_held(true, &[Email, Totp]));
        assert!(email_code_held(true, &[Email, Sms]));
        assert!(email_code_held(true, &[Totp]));
        // Mailbox-only accounts keep their method; no reset, no hold.
        assert!(!email_code_held(true, &[Email]));
        assert!(!email_code_held(true, &[Email, Recovery]));
        assert!(!email_code_held(false, &[Email, Totp, Sms]));
    }

    #[test]
    fn what_signing_in_asks_for_is_worded_from_the_methods_left() {
        assert_eq!(sign_in_after(&[]), "signing in needs only your password");
        assert_eq!(
            sign_in_after(&[Method::Sms]),
            "signing in still asks for a code sent by SMS"
        );
        assert_eq!(
            sign_in_after(&[Method::Email]),
            "signing in still asks for a code sent to your email"
        );
        assert_eq!(
            sign_in_after(&[Method::Totp, Method::Email, Method::Sms]),
            "signing in still asks for a code from your authenticator app, a code sent to \
             your email or a code sent by SMS"
        );
        // Recovery codes are not a method of their own.
        assert_eq!(
            sign_in_after(&[Method::Recovery]),
            "signing in needs only your password"
        );
    }

    fn codes(used: &[bool]) -> RecoveryCodes {
        RecoveryCodes {
            account: "ada@example.com".into(),
            at: 0,
            codes: used
                .iter()
                .enumerate()
                .map(|(i, u)| RecoveryCode {
                    code: format!("aaaaa-aaaa{i}"),
                    used: *u,
                })
                .collect(),
        }
    }

    #[test]
    fn identity_is_confirmed_with_another_method_when_one_is_on() {
        use IdentityProof::*;
        use Method::*;
        assert_eq!(IdentityProof::for_adding(Email, &[]), Password);
        assert_eq!(IdentityProof::for_adding(Totp, &[]), Password);
        assert_eq!(IdentityProof::for_adding(Email, &[Totp]), AuthenticatorCode);
        assert_eq!(IdentityProof::for_adding(Totp, &[Email]), EmailCode);
        assert_eq!(
            IdentityProof::for_adding(Sms, &[Email, Totp]),
            AuthenticatorCode
        );
        assert_eq!(IdentityProof::for_adding(Email, &[Sms]), Password);
        assert_eq!(IdentityProof::for_adding(Sms, &[Email]), EmailCode);
        // The method being added never confirms itself.
        assert_eq!(IdentityProof::for_adding(Email, &[Email]), Password);
        // A passkey vouches first.
        assert_eq!(
            IdentityProof::for_adding(Totp, &[Email, Method::Passkey]),
            IdentityProof::Passkey
        );
        assert_eq!(
            IdentityProof::for_adding(Sms, &[Method::Passkey]),
            IdentityProof::Passkey
        );
    }

    #[test]
    fn sign_in_offers_the_last_method_used_first() {
        use Method::*;
        let pick = |methods: &[Method], last| {
            SignInOptions::choose(methods.to_vec(), last, String::new()).preferred
        };
        assert_eq!(pick(&[Totp, Email, Recovery], None), Totp);
        assert_eq!(pick(&[Totp, Email, Recovery], Some(Email)), Email);
        assert_eq!(
            pick(&[Email], Some(Totp)),
            Email,
            "a method turned off since"
        );
        assert_eq!(
            pick(&[Totp, Recovery], Some(Recovery)),
            Totp,
            "recovery codes are a last resort"
        );
        assert_eq!(pick(&[Email, Sms], None), Email);
        assert_eq!(
            pick(&[Totp, Sms], Some(Sms)),
            Totp,
            "SMS is never preferred over another"
        );
        assert_eq!(
            pick(&[Sms, Recovery], Some(Sms)),
            Sms,
            "unless it is the only one"
        );
        assert_eq!(
            pick(&[Totp, Passkey, Recovery], Some(Totp)),
            Passkey,
            "a passkey is preferred whenever there is one"
        );
        assert_eq!(pick(&[Sms, Passkey], Some(Sms)), Passkey);
        assert_eq!(codes_proof(&[Email, Passkey, Totp]), Some(Passkey));
        assert_eq!(codes_proof(&[Email, Totp]), Some(Totp));
        assert_eq!(
            sign_in_after(&[Passkey, Sms]),
            "signing in still asks for your passkey or a code sent by SMS"
        );
        assert!(
            email_code_held(true, &[Email, Passkey]),
            "a passkey is never in the mailbox"
        );
        for m in [Totp, Email, Sms, Recovery, Passkey] {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("fax"), None);
    }

    #[test]
    fn a_sent_code_says_how_long_it_lasts() {
        let sent = |valid_secs| CodeSent {
            to: String::new(),
            resend_in: 60,
            valid_secs,
        };
        assert_eq!(sent(600).validity(), "It is valid for 10 minutes.");
        assert_eq!(sent(60).validity(), "It is valid for 1 minute.");
        assert_eq!(sent(119).validity(), "It is valid for 1 minute.");
        assert_eq!(sent(45).validity(), "It is valid for 45 seconds.");
        assert_eq!(sent(1).validity(), "It is valid for 1 second.");
    }

    #[test]
    fn counts_what_is_left_and_writes_only_unused_codes_to_the_file() {
        let c = codes(&[true, false, true, false]);
        assert_eq!(c.left(), 2);
        let text = c.as_text("1 January 1970");
        assert!(
            text.contains("Account: ada@example.com") && text.contains("Generated: 1 January 1970")
        );
        assert!(
            !text.contains("aaaaa-aaaa0")
                && text.contains("aaaaa-aaaa1")
                && text.contains("aaaaa-aaaa3")
        );
    }

    #[test]
    fn recovery_codes_are_confirmed_with_the_strongest_active_method() {
        use super::{codes_proof, Method::*};
        assert_eq!(codes_proof(&[]), None);
        assert_eq!(codes_proof(&[Sms]), Some(Sms));
        assert_eq!(codes_proof(&[Sms, Email]), Some(Email));
        assert_eq!(codes_proof(&[Email, Totp, Sms]), Some(Totp));
    }
}
