//! The development outbox: messages are kept in the database and shown at /dev/mail.
use super::{DeliveryError, Mail, Mailer};
use crate::server::store::{self, Db};

pub struct Outbox {
    pub db: Db,
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        store::outbox::insert(
            &self.db,
            &mail.to,
            &mail.subject,
            &mail.text,
            &mail.html,
            now,
        )
        .await
        .map_err(|e| DeliveryError(e.to_string()))
    }
}
