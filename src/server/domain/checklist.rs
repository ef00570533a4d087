//! The security checklist at the top of the Security page (seeds 000/001, "Security
//! Best Practices"): each line judged from the account as it is, with `now` given.
use crate::model::mfa::Method;
use crate::model::password::{rotation_due, Strength};
use crate::model::profile::{CheckLine, Mark};

/// Sessions not looked at for this long count as not reviewed.
pub const REVIEW_DAYS: i64 = 90;
/// Fewer unused recovery codes than this is a line to fix.
pub const MIN_CODES: i64 = 3;
/// A password rated below this (zxcvbn's score) when it was set is a line to fix.
pub const STRONG: u8 = 3;

/// What the checklist reads of an account.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The password's strength when it was last set, if known.
    pub password_strength: Option<u8>,
    /// When the password was last set (changed, reset, or the account made).
    pub password_set_at: i64,
    /// The rotation reminder (`password.rotation_reminder_days`; 0: off).
    pub rotation_days: i64,
    pub methods: Vec<Method>,
    pub recovery_left: i64,
    pub recovery_retired: bool,
    /// Live sessions, this one included.
    pub sessions: usize,
    /// When the newest session other than this one began.
    pub newest_other_session_at: Option<i64>,
    /// When the owner last opened Settings > Sessions.
    pub sessions_reviewed_at: Option<i64>,
    pub email: String,
    pub email_verified: bool,
}

fn line(key: &str, mark: Mark, title: &str, detail: String, fix: (&str, &str)) -> CheckLine {
    CheckLine {
        key: key.into(),
        mark,
        title: title.into(),
        detail,
        fix: Some((fix.0.into(), fix.1.into())),
    }
}

fn days(n: i64) -> String {
    match n {
        0 => "today".into(),
        1 => "1 day ago".into(),
        n => format!("{n} days ago"),
    }
}

const MANAGER: &str = "A password manager makes and remembers a long, unique one for every site.";

/// The checklist's lines, in the page's order.
pub fn lines(f: &Facts, now: i64) -> Vec<CheckLine> {
    vec![
        password(f, now),
        two_step(f),
        recovery_codes(f),
        sessions(f, now),
        email(f),
    ]
}

fn password(f: &Facts, now: i64) -> CheckLine {
    let fix = ("Change Password", "#password-title");
    let age = days((now - f.password_set_at).max(0) / 86_400);
    let (mark, detail) = match f.password_strength {
        None => (
            Mark::Todo,
            format!("Its strength is not known yet: it is measured when you next sign in or change it. {MANAGER}"),
        ),
        Some(s) if s < STRONG => (
            Mark::Todo,
            format!(
                "It was rated {} when you set it. Choose a longer one, used nowhere else. {MANAGER}",
                Strength(s).label().to_lowercase()
            ),
        ),
        Some(_) if rotation_due(f.password_set_at, now, f.rotation_days) => (
            Mark::Todo,
            format!(
                "Last changed {age}; we suggest a new one every {} days. {MANAGER}",
                f.rotation_days
            ),
        ),
        Some(s) => (
            Mark::Done,
            format!(
                "Rated {} when you set it, {age}. Keep it unique to this site. {MANAGER}",
                Strength(s).label().to_lowercase()
            ),
        ),
    };
    line("password", mark, "Strong password", detail, fix)
}

fn two_step(f: &Facts) -> CheckLine {
    let title = "Two-step sign-in";
    let names = |m: &Method| match m {
        Method::Email => Some("codes by email"),
        Method::Sms => Some("codes by SMS"),
        Method::Totp => Some("an authenticator app"),
        Method::Passkey => Some("a passkey"),
        Method::Recovery => None,
    };
    let on: Vec<&str> = f.methods.iter().filter_map(names).collect();
    // A passkey (phishing-resistant) or the authenticator app: the preferred methods.
    if f.methods.contains(&Method::Passkey) || f.methods.contains(&Method::Totp) {
        line(
            "two_step",
            Mark::Done,
            title,
            format!("On, with {}.", on.join(" and ")),
            ("Manage Methods", "#mfa-title"),
        )
    } else if on.is_empty() {
        line(
            "two_step",
            Mark::Todo,
            title,
            "Off: a stolen password alone opens your account. Turn on a second method; a passkey is the strongest.".into(),
            ("Turn On Two-Step Sign-In", "#mfa-title"),
        )
    } else {
        line(
            "two_step",
            Mark::Improve,
            title,
            format!(
                "On, with {}. A passkey or an authenticator app is stronger: codes sent by email or SMS can be intercepted.",
                on.join(" and ")
            ),
            ("Add an Authenticator App", "#totp-title"),
        )
    }
}

fn recovery_codes(f: &Facts) -> CheckLine {
    let title = "Recovery codes";
    let fix = ("View Recovery Codes", "#recovery-title");
    if f.methods.is_empty() {
        return line(
            "recovery_codes",
            Mark::Todo,
            title,
            "None yet: you get ten when you turn on two-step sign-in, your way back in if you lose your phone.".into(),
            ("Turn On Two-Step Sign-In", "#mfa-title"),
        );
    }
    let left = f.recovery_left;
    let plural = if left == 1 { "" } else { "s" };
    if f.recovery_retired || left == 0 {
        line(
            "recovery_codes",
            Mark::Todo,
            title,
            "None left that work: regenerate a fresh set of ten and save them.".into(),
            fix,
        )
    } else if left < MIN_CODES {
        line(
            "recovery_codes",
            Mark::Todo,
            title,
            format!("Only {left} code{plural} left: regenerate a fresh set of ten and save them."),
            fix,
        )
    } else {
        line(
            "recovery_codes",
            Mark::Done,
            title,
            format!("{left} code{plural} left, saved when you got them. Keep them where you can reach them without your phone."),
            fix,
        )
    }
}

fn sessions(f: &Facts, now: i64) -> CheckLine {
    let n = f.sessions;
    let count = match n {
        0 | 1 => "You are signed in on this browser only".to_string(),
        n => format!("You are signed in on {n} browsers or devices"),
    };
    let reviewed = f.sessions_reviewed_at.filter(|at| {
        now - at <= REVIEW_DAYS * 86_400 && f.newest_other_session_at.is_none_or(|s| s <= *at)
    });
    let (mark, detail) = if n <= 1 {
        (
            Mark::Done,
            format!("{count}. Review them regularly and revoke any you don't recognise."),
        )
    } else if let Some(at) = reviewed {
        (
            Mark::Done,
            format!(
                "{count}; you reviewed them {}. Review them regularly and revoke any you don't recognise.",
                days((now - at).max(0) / 86_400)
            ),
        )
    } else {
        (
            Mark::Todo,
            format!("{count}, not reviewed since the newest began. Review them regularly and revoke any you don't recognise."),
        )
    };
    line(
        "sessions",
        mark,
        "Sessions reviewed",
        detail,
        ("Review Sessions", "/settings/sessions"),
    )
}

fn email(f: &Facts) -> CheckLine {
    if f.email_verified {
        line(
            "email",
            Mark::Done,
            "Email address verified",
            format!("{} is verified. Keep that mailbox secure, with a strong password and two-step sign-in of its own: it is used for password recovery.", f.email),
            ("Go to Profile", "/settings/profile"),
        )
    } else {
        line(
            "email",
            Mark::Todo,
            "Email address verified",
            format!("{} is not verified yet: follow the link we sent, so it can help you recover your account.", f.email),
            ("Go to Profile", "/settings/profile"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Method::*;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    fn good() -> Facts {
        Facts {
            password_strength: Some(4),
            password_set_at: NOW - 10 * DAY,
            rotation_days: 182,
            methods: vec![Totp],
            recovery_left: 10,
            recovery_retired: false,
            sessions: 1,
            newest_other_session_at: None,
            sessions_reviewed_at: None,
            email: "ada@example.com".into(),
            email_verified: true,
        }
    }

    fn mark(f: &Facts, key: &str, now: i64) -> Mark {
        lines(f, now)
            .into_iter()
            .find(|l| l.key == key)
            .unwrap()
            .mark
    }

    #[test]
    fn a_well_kept_account_is_all_done() {
        let all = lines(&good(), NOW);
        assert_eq!(all.len(), 5);
        assert!(all.iter().all(|l| l.mark == Mark::Done), "{all:#?}");
        assert!(
            all.iter().all(|l| l.fix.is_some()),
            "every line leads to its place"
        );
    }

    #[test]
    fn the_password_line_follows_strength_and_age() {
        let mut f = good();
        f.password_strength = Some(2);
        assert_eq!(mark(&f, "password", NOW), Mark::Todo);
        f.password_strength = None;
        assert_eq!(mark(&f, "password", NOW), Mark::Todo);
        f.password_strength = Some(3);
        assert_eq!(mark(&f, "password", NOW), Mark::Done);
        // The rotation period passes: the same password is now due.
        assert_eq!(
            mark(&f, "password", f.password_set_at + 182 * DAY),
            Mark::Todo
        );
        assert_eq!(
            mark(&f, "password", f.password_set_at + 181 * DAY),
            Mark::Done
        );
        f.rotation_days = 0;
        assert_eq!(
            mark(&f, "password", f.password_set_at + 4000 * DAY),
            Mark::Done
        );
        let l = &lines(&f, NOW)[0];
        assert!(l.detail.contains("password manager"), "{}", l.detail);
    }

    #[test]
    fn two_step_prefers_the_authenticator() {
        let mut f = good();
        f.methods = vec![];
        assert_eq!(mark(&f, "two_step", NOW), Mark::Todo);
        f.methods = vec![Email];
        assert_eq!(mark(&f, "two_step", NOW), Mark::Improve);
        f.methods = vec![Email, Sms];
        let l = lines(&f, NOW).remove(1);
        assert!(
            l.detail.contains("codes by email and codes by SMS"),
            "{}",
            l.detail
        );
        f.methods = vec![Sms, Totp];
        assert_eq!(mark(&f, "two_step", NOW), Mark::Done);
        // A passkey is the preferred method too.
        f.methods = vec![Email, Method::Passkey];
        assert_eq!(mark(&f, "two_step", NOW), Mark::Done);
        assert!(lines(&f, NOW)[1].detail.contains("a passkey"));
    }

    #[test]
    fn recovery_codes_need_a_method_and_three_left() {
        let mut f = good();
        f.recovery_left = 3;
        assert_eq!(mark(&f, "recovery_codes", NOW), Mark::Done);
        f.recovery_left = 2;
        assert_eq!(mark(&f, "recovery_codes", NOW), Mark::Todo);
        assert!(lines(&f, NOW)[2].detail.contains("Only 2 codes left"));
        f.recovery_left = 10;
        f.recovery_retired = true;
        assert_eq!(mark(&f, "recovery_codes", NOW), Mark::Todo);
        f.recovery_retired = false;
        f.methods = vec![];
        assert_eq!(mark(&f, "recovery_codes", NOW), Mark::Todo);
    }

    #[test]
    fn sessions_count_as_reviewed_after_the_newest_began_and_for_90_days() {
        let mut f = good();
        f.sessions = 3;
        f.newest_other_session_at = Some(NOW - 5 * DAY);
        assert_eq!(mark(&f, "sessions", NOW), Mark::Todo, "never reviewed");
        f.sessions_reviewed_at = Some(NOW - 6 * DAY);
        assert_eq!(
            mark(&f, "sessions", NOW),
            Mark::Todo,
            "a session began since"
        );
        f.sessions_reviewed_at = Some(NOW - 4 * DAY);
        assert_eq!(mark(&f, "sessions", NOW), Mark::Done);
        assert!(
            lines(&f, NOW)[3].detail.contains("signed in on 3"),
            "{}",
            lines(&f, NOW)[3].detail
        );
        assert_eq!(
            mark(&f, "sessions", NOW - 4 * DAY + 91 * DAY),
            Mark::Todo,
            "reviewed too long ago"
        );
        f.sessions = 1;
        f.sessions_reviewed_at = None;
        assert_eq!(
            mark(&f, "sessions", NOW),
            Mark::Done,
            "nothing else to review"
        );
    }

    #[test]
    fn the_email_line_gives_the_seed_advice() {
        let mut f = good();
        let l = lines(&f, NOW).remove(4);
        assert!(
            l.detail.contains("Keep that mailbox secure"),
            "{}",
            l.detail
        );
        f.email_verified = false;
        assert_eq!(mark(&f, "email", NOW), Mark::Todo);
    }
}
