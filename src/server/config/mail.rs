//! `[mail]`: the sender, and where mail goes (the development outbox, or SMTP).
use super::source::Source;
use super::{is_loopback_name, ConfigError, Mode, Redacted};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

#[derive(Clone, Debug)]
pub enum MailTransport {
    Outbox,
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        username: String,
        password: Redacted<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub transport: MailTransport,
}

impl Mail {
    pub(super) fn parse(src: &Source, mode: Mode) -> Result<Mail, ConfigError> {
        let mail_from = src.string("mail.from")?;
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(src.error(
                "mail.from",
                "must be an address such as \"Latchkey <no-reply@example.com>\"",
            ));
        }
        let transport = src.choice("mail.transport", &[("outbox", false), ("smtp", true)])?;
        let mail = if transport {
            let host = src.string("mail.smtp_host")?;
            if host.trim().is_empty() {
                return Err(src.error("mail.smtp_host", "must name the SMTP server"));
            }
            MailTransport::Smtp {
                host,
                port: src.int("mail.smtp_port", 1, 65535)? as u16,
                tls: src.choice(
                    "mail.smtp_tls",
                    &[
                        ("none", SmtpTls::None),
                        ("starttls", SmtpTls::StartTls),
                        ("tls", SmtpTls::Tls),
                    ],
                )?,
                username: src.string("mail.smtp_username")?,
                password: Redacted(src.string("mail.smtp_password")?),
            }
        } else {
            MailTransport::Outbox
        };
        match mode {
            Mode::Production
                if matches!(&mail, MailTransport::Smtp { host, tls: SmtpTls::None, .. }
                    if !is_loopback_name(host)) =>
            {
                return Err(src.error(
                    "mail.smtp_tls",
                    "must be \"starttls\" or \"tls\" in production mode unless the SMTP server is on this machine (sign-in codes and reset links must not travel in clear)",
                ))
            }
            Mode::Production if matches!(mail, MailTransport::Outbox) => {
                return Err(src.error(
                    "mail.transport",
                    "must be \"smtp\" in production mode: the outbox keeps sign-in and reset links in clear",
                ))
            }
            _ => {}
        }
        Ok(Mail {
            from: mail_from,
            transport: mail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn production_refuses_plain_smtp_to_another_machine() {
        let production = |host: &'static str, tls: &'static str| {
            parse(&[
                ("LATCHKEY_SERVER_MODE", "production"),
                ("LATCHKEY_SERVER_SECRET", "cd".repeat(32).leak() as &str),
                (
                    "LATCHKEY_SERVER_PUBLIC_BASE_URL",
                    "https://account.example.com",
                ),
                ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
                ("LATCHKEY_MAIL_SMTP_HOST", host),
                ("LATCHKEY_MAIL_SMTP_TLS", tls),
            ])
        };
        let e = production("smtp.example.com", "none").unwrap_err();
        assert!(e.0.contains("mail.smtp_tls"), "{e}");
        assert!(production("smtp.example.com", "starttls").is_ok());
        assert!(production("smtp.example.com", "tls").is_ok());
        for local in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            assert!(production(local, "none").is_ok(), "{local}");
        }
    }
}
