//! Text messages. The rest of the server only sees the `SmsSender` trait: a
//! Twilio-compatible HTTP API in production, the development outbox otherwise.
use super::DeliveryError;
use crate::server::store::{self, Db};
use std::time::Duration;

#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `body` to `to` (E.164) and waits for the provider's answer: a code is
    /// only kept as sent once the provider took it.
    async fn send(&self, to: &str, body: &str) -> Result<(), DeliveryError>;
}

/// Twilio's Messages API, or any provider that speaks it: a form POST of `To`, `From`
/// and `Body` to `{base}/2010-04-01/Accounts/{sid}/Messages.json` with HTTP basic auth.
pub struct Twilio {
    client: reqwest::Client,
    endpoint: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

/// How long a provider may take before the send counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(10);

impl Twilio {
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: &str,
        from: &str,
    ) -> Result<Twilio, String> {
        // No redirects: a redirected POST would carry the code (and the credentials)
        // wherever the redirect points.
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the SMS client: {e}"))?;
        Ok(Twilio {
            client,
            endpoint: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                base_url.trim_end_matches('/'),
                account_sid
            ),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            from: from.into(),
        })
    }
}

#[async_trait::async_trait]
impl SmsSender for Twilio {
    async fn send(&self, to: &str, body: &str) -> Result<(), DeliveryError> {
        let answer = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&[("To", to), ("From", self.from.as_str()), ("Body", body)])
            .send()
            .await
            .map_err(|e| {
                DeliveryError(if e.is_timeout() {
                    "the SMS provider did not answer in time".into()
                } else {
                    "the SMS provider could not be reached".into()
                })
            })?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError(format!(
                "the SMS provider answered {}",
                status.as_u16()
            )))
        }
    }
}

/// Development: text messages go to the outbox shown at /dev/mail, marked as SMS.
pub struct Outbox {
    pub db: Db,
}

/// The outbox's subject for a text message (the /dev/mail page marks them by it).
pub const OUTBOX_SUBJECT: &str = "SMS";

#[async_trait::async_trait]
impl SmsSender for Outbox {
    async fn send(&self, to: &str, body: &str) -> Result<(), DeliveryError> {
        store::outbox::insert(&self.db, to, OUTBOX_SUBJECT, body, "", crate::server::now())
            .await
            .map_err(|e| DeliveryError(e.to_string()))
    }
}
