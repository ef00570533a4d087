//! The text of every message, as plain text and HTML. Every value put into the HTML
//! is escaped.
use super::Mail;

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_page(paragraphs: &[String]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!doctype html><html><body style=\"font-family: system-ui, sans-serif; color: #1f2328; \
         line-height: 1.5; max-width: 560px\">\n<p style=\"font-weight: 600\">Latchkey</p>\n{body}</body></html>\n"
    )
}

pub fn verify_email(to: &str, link: &str, hours: i64) -> Mail {
    let text = format!(
        "Welcome to Latchkey.\n\n\
         Confirm that {to} is your email address by opening this link:\n\n{link}\n\n\
         The link works once and expires in {hours} hours.\n\n\
         If you did not create an account, ignore this message: nothing happens without the link."
    );
    let html = html_page(&[
        "Welcome to Latchkey.".into(),
        format!(
            "Confirm that <strong>{}</strong> is your email address:",
            escape_html(to)
        ),
        button(link, "Verify email address", "#0969da"),
        format!(
            "Or paste this link into your browser: {}",
            escape_html(link)
        ),
        format!("The link works once and expires in {hours} hours."),
        "If you did not create an account, ignore this message: nothing happens without the link."
            .into(),
    ]);
    Mail {
        to: to.into(),
        subject: "Verify your email address".into(),
        text,
        html,
    }
}

pub fn sign_up_attempt_on_existing(to: &str, sign_in_link: &str, reset_hint: &str) -> Mail {
    let text = format!(
        "Someone tried to create a Latchkey account with {to}, but this address already has one.\n\n\
         If it was you, sign in instead: {sign_in_link}\n{reset_hint}\n\n\
         If it was not you, you need not do anything: your account is unchanged."
    );
    let html = html_page(&[
        format!(
            "Someone tried to create a Latchkey account with <strong>{}</strong>, but this address already has one.",
            escape_html(to)
        ),
        format!("If it was you, <a href=\"{0}\">sign in</a> instead. {1}", escape_html(sign_in_link), escape_html(reset_hint)),
        "If it was not you, you need not do anything: your account is unchanged.".into(),
    ]);
    Mail {
        to: to.into(),
        subject: "Someone tried to sign up with your email".into(),
        text,
        html,
    }
}

/// "Hello Ada," when the owner gave a display name (plain text, then HTML).
fn greeting(name: Option<&str>) -> (String, String) {
    match name {
        Some(n) => (
            format!("Hello {n},\n\n"),
            format!("Hello {},", escape_html(n)),
        ),
        None => (String::new(), "Hello,".into()),
    }
}

fn button(link: &str, label: &str, colour: &str) -> String {
    format!(
        "<a href=\"{0}\" style=\"display:inline-block;padding:8px 16px;background:{colour};color:#fff;\
         border-radius:6px;text-decoration:none\">{label}</a>",
        escape_html(link)
    )
}

/// The link that makes a new address the account's, sent to that address.
pub fn email_change_link(to: &str, name: Option<&str>, old: &str, link: &str, hours: i64) -> Mail {
    let (hello_text, hello_html) = greeting(name);
    let text = format!(
        "{hello_text}Someone signed in to the Latchkey account {old} asked to use {to} as its \
         email address from now on.\n\nTo confirm, open this link:\n\n{link}\n\n\
         The link works once and expires in {hours} hours. Nothing changes until it is used. \
         If you did not ask for this, ignore this message."
    );
    let html = html_page(&[
        hello_html,
        format!(
            "Someone signed in to the Latchkey account <strong>{}</strong> asked to use <strong>{}</strong> as its email address from now on.",
            escape_html(old),
            escape_html(to)
        ),
        button(link, "Confirm new email address", "#0969da"),
        format!("Or paste this link into your browser: {}", escape_html(link)),
        format!("The link works once and expires in {hours} hours. Nothing changes until it is used. If you did not ask for this, ignore this message."),
    ]);
    Mail {
        to: to.into(),
        subject: "Confirm your new email address".into(),
        text,
        html,
    }
}

/// Sent instead of the link when the new address already has an account: its owner
/// learns of the attempt; the person who asked sees the same page either way.
pub fn email_change_taken(to: &str, sign_in_link: &str) -> Mail {
    let text = format!(
        "Someone asked to move another Latchkey account to {to}, but this address already has \
         an account of its own, so nothing changed.\n\nIf it was you, sign in to this account \
         instead: {sign_in_link}\n\nIf it was not you, you need not do anything."
    );
    let html = html_page(&[
        format!(
            "Someone asked to move another Latchkey account to <strong>{}</strong>, but this address already has an account of its own, so nothing changed.",
            escape_html(to)
        ),
        format!("If it was you, <a href=\"{}\">sign in to this account</a> instead.", escape_html(sign_in_link)),
        "If it was not you, you need not do anything.".into(),
    ]);
    Mail {
        to: to.into(),
        subject: "Someone tried to use your email address".into(),
        text,
        html,
    }
}

/// Sent to the old address once a change took effect: what happened, and the undo
/// link (it restores this address, signs every session out and leads to a new
/// password).
pub fn email_changed(
    to: &str,
    name: Option<&str>,
    new: &str,
    origin: &Origin<'_>,
    undo_link: &str,
    valid_days: i64,
) -> Mail {
    let (hello_text, hello_html) = greeting(name);
    let text = format!(
        "{hello_text}On {when}, from IP address {ip} ({device}), the email address of your \
         Latchkey account was changed from {to} to {new}. Sign-in, notices and email codes now \
         use {new}.\n\nIf this was you, there is nothing more to do.\n\n\
         If this was not you, undo it with this link (it works once, for {valid_days} days): it \
         puts {to} back, signs out every session and leads you to set a new password:\n{undo_link}",
        when = origin.when,
        ip = origin.ip,
        device = origin.device
    );
    let html = html_page(&[
        hello_html,
        format!(
            "On {}, from IP address {} ({}), the email address of your Latchkey account was changed from <strong>{}</strong> to <strong>{}</strong>. Sign-in, notices and email codes now use the new address.",
            escape_html(origin.when),
            escape_html(origin.ip),
            escape_html(origin.device),
            escape_html(to),
            escape_html(new)
        ),
        "If this was you, there is nothing more to do.".into(),
        button(undo_link, "Undo this change", "#cf222e"),
        format!("The link works once, for {valid_days} days. It puts this address back, signs out every session and leads you to set a new password."),
    ]);
    Mail {
        to: to.into(),
        subject: "Your email address was changed".into(),
        text,
        html,
    }
}

/// Where and from what a change was made, for notices.
pub struct Origin<'a> {
    pub when: &'a str,
    pub ip: &'a str,
    pub device: &'a str,
}

fn not_you(reset_link: &str) -> (String, String) {
    (
        format!(
            "If this was not you, someone else knows your password: reset it at once at \
             {reset_link} and then review your account's security settings."
        ),
        format!(
            "<strong>If this was not you</strong>, someone else knows your password: \
             <a href=\"{0}\">reset it at once</a> and then review your account's security settings.",
            escape_html(reset_link)
        ),
    )
}

/// A notice after a change to how the account signs in (password changed or reset,
/// MFA on or off, new recovery codes, a replayed code): what happened, when, from
/// where, and what to do if it was not the owner.
pub fn security_notice(
    to: &str,
    name: Option<&str>,
    subject: &str,
    what: &str,
    origin: &Origin<'_>,
    reset_link: &str,
) -> Mail {
    let (warn_text, warn_html) = not_you(reset_link);
    let (hello_text, hello_html) = greeting(name);
    let text = format!(
        "{hello_text}On {when}, from IP address {ip} ({device}), {what}.\n\nAccount: {to}\n\n\
         If this was you, there is nothing more to do.\n{warn_text}",
        when = origin.when,
        ip = origin.ip,
        device = origin.device
    );
    let html = html_page(&[
        hello_html,
        format!(
            "On {}, from IP address {} ({}), {}.",
            escape_html(origin.when),
            escape_html(origin.ip),
            escape_html(origin.device),
            escape_html(what)
        ),
        format!("Account: <strong>{}</strong>", escape_html(to)),
        "If this was you, there is nothing more to do.".into(),
        warn_html,
    ]);
    Mail {
        to: to.into(),
        subject: subject.into(),
        text,
        html,
    }
}

/// A new sign-in: what was new about it, when, from where, with what, and the single-use
/// "This wasn't me" link that signs that session out.
pub fn new_sign_in(
    to: &str,
    name: Option<&str>,
    what_was_new: &str,
    origin: &Origin<'_>,
    place: &str,
    not_me_link: &str,
    valid_days: i64,
) -> Mail {
    let (hello_text, hello_html) = greeting(name);
    let text = format!(
        "{hello_text}Your account {to} was just signed in to from {what_was_new}.\n\n\
         When: {when}\nIP address: {ip}\nPlace: {place}\nBrowser: {device}\n\n\
         If this was you, there is nothing to do.\n\n\
         If this wasn't you, open this link to sign that session out and set a new \
         password (it works once, for {valid_days} days):\n{not_me_link}\n\n\
         You can choose which sign-ins you are told about in Settings > Notifications.",
        when = origin.when,
        ip = origin.ip,
        device = origin.device,
    );
    let html = html_page(&[
        hello_html,
        format!(
            "Your account <strong>{}</strong> was just signed in to from {}.",
            escape_html(to),
            escape_html(what_was_new)
        ),
        format!(
            "When: {}<br>IP address: {}<br>Place: {}<br>Browser: {}",
            escape_html(origin.when),
            escape_html(origin.ip),
            escape_html(place),
            escape_html(origin.device)
        ),
        "If this was you, there is nothing to do.".into(),
        button(not_me_link, "This wasn't me", "#cf222e"),
        format!(
            "The link signs that session out and leads you to set a new password. It works \
             once, for {valid_days} days."
        ),
        "You can choose which sign-ins you are told about in Settings &gt; Notifications.".into(),
    ]);
    Mail {
        to: to.into(),
        subject: "New sign-in to your account".into(),
        text,
        html,
    }
}

/// What a reset by link means for two-step sign-in (see `model::mfa::email_code_held`).
const RESET_AND_METHODS: &str = "If your account has an authenticator app or SMS codes, \
    the first sign-in after the reset asks for one of those, or a recovery code: a code \
    sent to this address is not accepted until then.";

pub fn password_reset_link(to: &str, link: &str, valid_minutes: i64) -> Mail {
    let text = format!(
        "Someone asked to reset the password of the Latchkey account {to}.\n\n\
         To choose a new password, open this link:\n\n{link}\n\n\
         The link works once and expires in {valid_minutes} minutes. If you did not ask for \
         this, ignore this message: your password stays as it is.\n\n{RESET_AND_METHODS}"
    );
    let html = html_page(&[
        format!("Someone asked to reset the password of the Latchkey account <strong>{}</strong>.", escape_html(to)),
        button(link, "Choose a new password", "#0969da"),
        format!("Or paste this link into your browser: {}", escape_html(link)),
        format!(
            "The link works once and expires in {valid_minutes} minutes. If you did not ask for this, \
             ignore this message: your password stays as it is."
        ),
        RESET_AND_METHODS.to_string(),
    ]);
    Mail {
        to: to.into(),
        subject: "Reset your password".into(),
        text,
        html,
    }
}

/// A one-time code, saying what it is for ("to sign in", "to turn on email codes"),
/// how long it lasts, and what to do if the owner did not ask for it.
pub fn one_time_code(
    to: &str,
    code: &str,
    reason: &str,
    valid_minutes: i64,
    reset_link: &str,
) -> Mail {
    let subject = format!("Your Latchkey code {reason}");
    let minutes = if valid_minutes == 1 {
        "minute"
    } else {
        "minutes"
    };
    let text = format!(
        "Your code {reason}: {code}\n\n\
         Enter it where you asked for it. It works once and expires in {valid_minutes} {minutes}.\n\
         Latchkey never asks for this code by phone, chat or email: do not give it to anyone.\n\n\
         Account: {to}\n\n\
         If you did not ask for a code {reason}, someone may know your password: reset it at \
         {reset_link}."
    );
    let html = html_page(&[
        format!("Your code {}:", escape_html(reason)),
        format!(
            "<span style=\"font-size:24px;font-weight:600;letter-spacing:4px;font-family:monospace\">{}</span>",
            escape_html(code)
        ),
        format!("Enter it where you asked for it. It works once and expires in {valid_minutes} {minutes}."),
        "Latchkey never asks for this code by phone, chat or email: do not give it to anyone.".into(),
        format!("Account: <strong>{}</strong>", escape_html(to)),
        format!(
            "If you did not ask for a code {}, someone may know your password: <a href=\"{}\">reset it</a>.",
            escape_html(reason),
            escape_html(reset_link)
        ),
    ]);
    Mail {
        to: to.into(),
        subject,
        text,
        html,
    }
}

/// A personal access token expires within a week (sent once per token).
pub fn token_expiring(to: &str, name: &str, when: &str, tokens_link: &str) -> Mail {
    let text = format!(
        "Your Latchkey API token \"{name}\" expires on {when}.\n\n\
         Anything that uses it stops working then. To keep it working, open Settings > API \
         tokens and choose \"Regenerate\" (a new secret with the same name and permissions): \
         {tokens_link}\n\n\
         If you no longer use it, you need not do anything."
    );
    let html = html_page(&[
        format!(
            "Your Latchkey API token <strong>{}</strong> expires on {}.",
            escape_html(name),
            escape_html(when)
        ),
        "Anything that uses it stops working then. To keep it working, choose \
         \u{201c}Regenerate\u{201d} (a new secret with the same name and permissions):"
            .into(),
        button(tokens_link, "Open API tokens", "#0969da"),
        "If you no longer use it, you need not do anything.".into(),
    ]);
    Mail {
        to: to.into(),
        subject: format!("Your API token \"{name}\" expires soon"),
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_carries_the_link() {
        let m = verify_email(
            "a<b>@example.com",
            "http://x/verify-email?token=abc&x=1",
            24,
        );
        assert!(m.text.contains("http://x/verify-email?token=abc&x=1"));
        assert!(m.html.contains("a&lt;b&gt;@example.com"));
        assert!(m.html.contains("token=abc&amp;x=1"));
        assert!(!m.html.contains("<b>@"));
    }
}
