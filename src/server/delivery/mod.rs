//! Outgoing messages. The rest of the server only sees the `Mailer` trait.
pub mod outbox;
pub mod sms;
pub mod smtp;
pub mod templates;

use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[error("mail delivery failed: {0}")]
pub struct DeliveryError(pub String);

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError>;
}

/// Sends in the background so that a request's answer (and its timing) never depends
/// on the mail server. Failures are logged without the message body.
pub fn send_later(mailer: Arc<dyn Mailer>, mail: Mail) {
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(subject = %mail.subject, error = %e, "could not deliver mail");
        }
    });
}
