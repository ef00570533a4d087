//! Use cases: each one checks input, applies the domain rules, writes through the
//! store (one transaction per multi-row change), logs and sends mail. Server
//! functions call these; tests call them too. All take `now`.
pub mod accounts;
pub mod codes;
pub mod mfa;
pub mod password;
pub mod security_log;
pub mod sessions;

use crate::model::error::ApiError;
use crate::server::domain::throttle::{self, Decision, Policy};
use crate::server::domain::tokens::{new_reference, Purpose};
use crate::server::{store, AppState};

/// Who is asking: taken from the request by the HTTP layer.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub ip: String,
    pub user_agent: String,
    pub session: Option<crate::server::http::AuthSession>,
}

impl Caller {
    /// The address as throttles count it: IPv6 by its /64.
    pub fn ip_group(&self) -> String {
        match self.ip.parse::<std::net::IpAddr>() {
            Ok(ip) => crate::server::domain::client_address::throttle_group(ip),
            Err(_) => self.ip.clone(),
        }
    }
}

/// A security-log entry for what `caller` did (or tried) to account `user_id`.
fn event<'a>(
    caller: &'a Caller,
    user_id: Option<i64>,
    kind: &'a str,
    now: i64,
    detail: serde_json::Value,
) -> store::events::NewEvent<'a> {
    store::events::NewEvent {
        user_id,
        kind,
        at: now,
        ip: &caller.ip,
        user_agent: &caller.user_agent,
        detail,
    }
}

/// How the log names an email address typed for an unknown account: a keyed hash
/// (16 bytes, hex), never the address itself.
pub fn logged_email(state: &AppState, email: &str) -> String {
    let hash = state.keys.hash(Purpose::LoggedEmail, email);
    hash[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a security-log entry.
pub async fn log(
    state: &AppState,
    caller: &Caller,
    user_id: Option<i64>,
    kind: &str,
    now: i64,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    store::events::insert(&state.db, event(caller, user_id, kind, now, detail))
        .await
        .map_err(internal)
}

/// Writes a security-log entry inside the transaction of the change it records, so
/// that both are kept or neither.
pub async fn log_within(
    tx: &mut store::Tx<'_>,
    caller: &Caller,
    user_id: Option<i64>,
    kind: &str,
    now: i64,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    store::events::insert(&mut **tx, event(caller, user_id, kind, now, detail))
        .await
        .map_err(internal)
}

/// Sends a mail in the background, unless its recipient already got
/// [`throttle::MAILS_PER_RECIPIENT`]'s share: nobody can use Latchkey to flood an inbox.
/// A mail held back is noted in the server log (without the address).
pub async fn deliver(
    state: &AppState,
    mail: crate::server::delivery::Mail,
    now: i64,
) -> Result<(), ApiError> {
    deliver_or_hold(state, mail, now).await.map(|_| ())
}

/// [`deliver`], telling whether the mail went out (`Ok(None)`) or was held back, with
/// the seconds until its recipient may get mail again.
pub async fn deliver_or_hold(
    state: &AppState,
    mail: crate::server::delivery::Mail,
    now: i64,
) -> Result<Option<u64>, ApiError> {
    let key = state.keys.hash(
        Purpose::Throttle,
        &format!("mail-to:{}", mail.to.to_lowercase()),
    );
    match take(state, &[(key, throttle::MAILS_PER_RECIPIENT)], now).await {
        Ok(()) => {
            crate::server::delivery::send_later(state.mailer.clone(), mail);
            Ok(None)
        }
        Err(ApiError::TooManyRequests { retry_after }) => {
            tracing::warn!(subject = %mail.subject, "mail held back: its recipient got too many this hour");
            Ok(Some(retry_after))
        }
        Err(e) => Err(e),
    }
}

/// Tells the owner, by email, what happened to their account, when and from where.
pub async fn notify(
    state: &AppState,
    caller: &Caller,
    email: &str,
    subject: &str,
    what: &str,
    now: i64,
) -> Result<(), ApiError> {
    use crate::server::delivery::templates;
    let when = crate::model::time::format_datetime(now);
    let device = crate::server::domain::device::describe(&caller.user_agent);
    let origin = templates::Origin {
        when: &when,
        ip: &caller.ip,
        device: &device,
    };
    let reset_link = state.config.link("/forgot-password");
    deliver(
        state,
        templates::security_notice(email, subject, what, &origin, &reset_link),
        now,
    )
    .await
}

/// Checks a user's password; when it matches a hash that is out of date (an old pepper,
/// none, older parameters, not normalised), stores a fresh hash of it.
pub async fn password_matches(
    state: &AppState,
    user: &store::users::User,
    password: &str,
) -> Result<bool, ApiError> {
    let verdict = state
        .hasher
        .verify(password, &user.password_hash)
        .await
        .map_err(internal)?;
    if verdict.matches && verdict.rehash {
        let fresh = state.hasher.hash(password).await.map_err(internal)?;
        store::users::rehash(&state.db, user.id, &user.password_hash, &fresh)
            .await
            .map_err(internal)?;
    }
    Ok(verdict.matches)
}

/// How a sensitive change asks the signed-in owner for their password.
pub struct PasswordProof {
    /// Throttle counters of its own, like sign-in's.
    pub scope: &'static str,
    /// The form field an error belongs to, and what it says.
    pub field: &'static str,
    pub wrong: &'static str,
    /// The security-log kind of a refused attempt.
    pub failed_kind: &'static str,
}

/// Checks the signed-in account's own password before a sensitive change: throttled
/// per account and address, every refusal (wrong or throttled) logged.
pub async fn confirm_own_password(
    state: &AppState,
    caller: &Caller,
    user: &store::users::User,
    password: &str,
    proof: &PasswordProof,
    now: i64,
) -> Result<(), ApiError> {
    // Every refusal, throttled or wrong, is logged with its reason.
    let refusal = |reason: &'static str| {
        log(
            state,
            caller,
            Some(user.id),
            proof.failed_kind,
            now,
            serde_json::json!({ "reason": reason }),
        )
    };
    let guard = match SecretGuard::take(state, proof.scope, &user.id.to_string(), caller, now).await
    {
        Ok(guard) => guard,
        Err(refused) => {
            refusal("throttled").await?;
            return Err(refused);
        }
    };
    let matches = password.len() <= crate::model::password::MAX_PASSWORD_BYTES
        && password_matches(state, user, password).await?;
    if !matches {
        refusal("wrong_password").await?;
        return Err(ApiError::field(proof.field, proof.wrong));
    }
    guard.succeeded(state).await
}

/// At a change of credentials or factors: ends every session of the caller's account
/// and continues the caller's sign-in under a fresh session id, inside the given
/// transaction. The sign-in time is kept, so the absolute limit still counts from the
/// sign-in. Gives the new token and how many other sessions ended.
pub async fn rotate_session(
    tx: &mut store::Tx<'_>,
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<(String, u64), ApiError> {
    let session = caller
        .session
        .as_ref()
        .ok_or_else(accounts::not_signed_in)?;
    let others = store::sessions::delete_for_user(tx, session.user_id, Some(session.session_id))
        .await
        .map_err(internal)?;
    // The new row is added while the old one still holds its id, so the id changes too.
    let token = accounts::start_session(
        &mut **tx,
        state,
        session.user_id,
        caller,
        session.signed_in_at,
        now,
    )
    .await?;
    store::sessions::delete(&mut **tx, session.session_id)
        .await
        .map_err(internal)?;
    Ok((token, others))
}

/// An unexpected failure: logged with a reference the user sees, never with secrets.
pub fn internal(e: impl std::fmt::Display) -> ApiError {
    let reference = new_reference();
    tracing::error!(%reference, error = %e, "internal error");
    ApiError::Internal { reference }
}

/// Counts one attempt on each of `keys` before the attempt is made, or refuses it with
/// the longest wait owed. All the counters change in one transaction (see
/// [`store::throttles::begin`]): a refusal rolls back what this request counted, so
/// nothing has to be given back, and racing requests are counted one by one (each
/// counter is an atomic upsert within its free allowance, a compare-and-swap past it).
///
/// Rows are taken in the callers' order: for a secret check the address's counter,
/// which every request from that address updates, comes last and is held the
/// shortest. Each kind of check always lists the same kinds of counter in the same
/// order, and counters of different kinds never share a key, so two such transactions
/// cannot wait on each other.
pub async fn take(state: &AppState, keys: &[(Vec<u8>, Policy)], now: i64) -> Result<(), ApiError> {
    let mut conn = state.db.acquire().await.map_err(internal)?;
    take_on(&mut conn, keys, now).await
}

/// [`take`] on a connection the caller holds (the read and the transaction share it:
/// one checkout of the pool, and one ping when it goes back, instead of two).
pub async fn take_on(
    conn: &mut store::Conn,
    keys: &[(Vec<u8>, Policy)],
    now: i64,
) -> Result<(), ApiError> {
    // On PostgreSQL, counters within their free allowance (nearly every request) are
    // all counted in one round trip (and one past it is seen by a read that locks and
    // writes nothing); the rest of this function decides the others.
    let counters: Vec<(&[u8], u32, i64)> = keys
        .iter()
        .map(|(key, policy)| (key.as_slice(), policy.free, policy.forget_after_secs))
        .collect();
    if store::throttles::count_all_within_allowance(conn, &counters, now)
        .await
        .map_err(internal)?
        == Some(true)
    {
        return Ok(());
    }
    // First one plain read of every counter: a request that must wait (most of a
    // storm) is refused by it, without a transaction that would lock rows while others
    // queue behind it. The transaction below decides for certain; this read only
    // spares it the attempts that are refused anyway.
    if let Some(wait) = wait_owed(&mut **conn, keys, now).await? {
        return Err(ApiError::TooManyRequests {
            retry_after: wait as u64,
        });
    }
    let mut tx = store::throttles::begin(&mut **conn)
        .await
        .map_err(internal)?;
    for (n, (key, policy)) in keys.iter().enumerate() {
        if let Decision::Wait(secs) = take_one(&mut tx, key, policy, now).await? {
            let mut wait = secs;
            for (key, policy) in &keys[n + 1..] {
                let current = store::throttles::get(&mut *tx, key)
                    .await
                    .map_err(internal)?;
                if let Decision::Wait(s) = policy.decide(current, now) {
                    wait = wait.max(s);
                }
            }
            tx.rollback().await.map_err(internal)?;
            return Err(ApiError::TooManyRequests {
                retry_after: wait as u64,
            });
        }
    }
    tx.commit().await.map_err(internal)
}

/// The longest wait that `keys`' counters owe now, if any.
async fn wait_owed(
    conn: &mut sqlx::AnyConnection,
    keys: &[(Vec<u8>, Policy)],
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let names: Vec<&[u8]> = keys.iter().map(|(k, _)| k.as_slice()).collect();
    let rows = store::throttles::get_many(conn, &names)
        .await
        .map_err(internal)?;
    let decisions: Vec<Decision> = keys
        .iter()
        .map(|(key, policy)| {
            let current = rows.iter().find(|(k, _)| k == key).map(|(_, s)| *s);
            policy.decide(current, now)
        })
        .collect();
    Ok(match throttle::combine(&decisions) {
        Decision::Wait(secs) => Some(secs),
        Decision::Allow => None,
    })
}

async fn take_one(
    conn: &mut sqlx::AnyConnection,
    key: &[u8],
    policy: &Policy,
    now: i64,
) -> Result<Decision, ApiError> {
    // Within the free allowance: one atomic statement. (Always a write first, so on
    // SQLite the transaction holds the write lock from its first statement on.)
    if store::throttles::count_within_allowance(
        &mut *conn,
        key,
        policy.free,
        policy.forget_after_secs,
        now,
    )
    .await
    .map_err(internal)?
    {
        return Ok(Decision::Allow);
    }
    // Past the allowance (or forgotten): read, decide, compare-and-swap. Each lost race
    // means another request was counted, so this ends quickly; the bound only keeps a
    // pathological storm from spinning.
    for _ in 0..1000 {
        let current = store::throttles::get(&mut *conn, key)
            .await
            .map_err(internal)?;
        if let Decision::Wait(secs) = policy.decide(current, now) {
            return Ok(Decision::Wait(secs));
        }
        let next = policy.record_failure(current, now);
        if store::throttles::swap(&mut *conn, key, current, next)
            .await
            .map_err(internal)?
        {
            return Ok(Decision::Allow);
        }
    }
    Ok(Decision::Wait(1))
}

/// Throttling of one kind of secret check (a password, a code) for one account from
/// one address: three counters, for the account from this address, the account from
/// anywhere and the address whatever the account. Keys are keyed hashes.
///
/// The attempt is counted as a failure before the secret is checked ([`SecretGuard::take`]);
/// a success then clears the account's counters and gives the address its attempt back.
pub struct SecretGuard {
    keys: Vec<(Vec<u8>, Policy)>,
}

impl SecretGuard {
    fn keys(state: &AppState, scope: &str, account: &str, ip: &str) -> Vec<(Vec<u8>, Policy)> {
        [
            (
                format!("{scope}:account-ip:{account}|{ip}"),
                throttle::SIGN_IN_ACCOUNT_IP,
            ),
            (
                format!("{scope}:account:{account}"),
                throttle::SIGN_IN_ACCOUNT,
            ),
            (format!("{scope}:ip:{ip}"), throttle::SIGN_IN_IP),
        ]
        .into_iter()
        .map(|(name, policy)| (state.keys.hash(Purpose::Throttle, &name), policy))
        .collect()
    }

    /// Counts this attempt, or refuses it with the wait owed.
    pub async fn take(
        state: &AppState,
        scope: &str,
        account: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<SecretGuard, ApiError> {
        let mut conn = state.db.acquire().await.map_err(internal)?;
        Self::take_on(&mut conn, state, scope, account, caller, now).await
    }

    /// [`SecretGuard::take`] on a connection the caller holds (and releases before the
    /// secret is checked: a hash must never hold a connection of the pool).
    pub async fn take_on(
        conn: &mut store::Conn,
        state: &AppState,
        scope: &str,
        account: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<SecretGuard, ApiError> {
        let keys = Self::keys(state, scope, account, &caller.ip_group());
        take_on(conn, &keys, now).await?;
        Ok(SecretGuard { keys })
    }

    /// [`SecretGuard::take`] for a second factor (an authenticator or recovery code):
    /// also counted against [`throttle::SECOND_FACTOR_DAY`], one count per account
    /// shared by every kind of code, so that someone who has the password cannot keep
    /// guessing codes all day at the short-window pace.
    pub async fn take_second_factor(
        state: &AppState,
        scope: &str,
        user_id: i64,
        caller: &Caller,
        now: i64,
    ) -> Result<SecretGuard, ApiError> {
        let mut keys = Self::keys(state, scope, &user_id.to_string(), &caller.ip_group());
        keys.push((
            state
                .keys
                .hash(Purpose::Throttle, &format!("second-factor:day:{user_id}")),
            throttle::SECOND_FACTOR_DAY,
        ));
        take(state, &keys, now).await?;
        Ok(SecretGuard { keys })
    }

    /// The secret was right: the account's counters start again, and the address's
    /// (and the day's) counted attempt is given back.
    /// One transaction of counting (see [`store::throttles::begin`]): the address's
    /// counter, which every request from it updates, is locked for a round trip only.
    pub async fn succeeded(&self, state: &AppState) -> Result<(), ApiError> {
        let mut conn = state.db.acquire().await.map_err(internal)?;
        self.succeeded_on(&mut conn).await
    }

    /// [`SecretGuard::succeeded`] on a connection the caller holds.
    pub async fn succeeded_on(&self, conn: &mut store::Conn) -> Result<(), ApiError> {
        let keys: Vec<&[u8]> = self.keys.iter().map(|(k, _)| k.as_slice()).collect();
        let (cleared, refunded) = keys.split_at(2);
        if store::throttles::clear_and_refund_at_once(conn, cleared, refunded)
            .await
            .map_err(internal)?
        {
            return Ok(());
        }
        let mut tx = store::throttles::begin(&mut **conn)
            .await
            .map_err(internal)?;
        // One row at a time, in the order `take` locks them: a statement that locked
        // two rows at once would lock them in the table's order, and a double-sent
        // form's `take` could then wait on it while it waits on that `take`.
        for (key, _) in self.keys.iter().take(2) {
            store::throttles::clear(&mut *tx, key)
                .await
                .map_err(internal)?;
        }
        for (key, _) in self.keys.iter().skip(2) {
            store::throttles::refund(&mut *tx, key)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }

    /// The attempt was never judged (the method is off, say): every count is given back.
    pub async fn not_judged(&self, state: &AppState) -> Result<(), ApiError> {
        for (key, _) in &self.keys {
            store::throttles::refund(&state.db, key)
                .await
                .map_err(internal)?;
        }
        Ok(())
    }
}

/// Answers no sooner than `floor` after `started`, so that the answer's timing does not
/// tell which path a request took (used where no password hash evens it out).
pub async fn answer_after(started: std::time::Instant, floor: std::time::Duration) {
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
}
