//! Mail through an SMTP server (lettre): plain for a local relay, STARTTLS or TLS.
use super::{DeliveryError, Mail, Mailer};
use crate::server::config::SmtpTls;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    pub fn new(
        host: &str,
        port: u16,
        tls: SmtpTls,
        username: &str,
        password: &str,
        from: &str,
    ) -> Result<Smtp, DeliveryError> {
        let builder = match tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| DeliveryError(e.to_string()))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| DeliveryError(e.to_string()))?,
        };
        let mut builder = builder
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if !username.is_empty() {
            builder =
                builder.credentials(Credentials::new(username.to_string(), password.to_string()));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| DeliveryError(e.to_string()))?;
        Ok(Smtp {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for Smtp {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| DeliveryError(e.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| DeliveryError(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(e.to_string()))
    }
}
