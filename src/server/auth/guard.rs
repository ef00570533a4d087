//! Throttling of every check of a secret: counted before it is judged, per account and
//! per address (see [`SecretGuard`]), in one transaction of counting.
use crate::server::auth::Caller;
use crate::server::domain::throttle::{self, Decision, Policy};
use crate::server::domain::tokens::Purpose;
use crate::server::error::{Error, Result};
use crate::server::{store, AppState};

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
pub async fn take(state: &AppState, keys: &[(Vec<u8>, Policy)], now: i64) -> Result<(), Error> {
    let mut conn = state.db.acquire().await?;
    take_on(&mut conn, keys, now).await
}

/// [`take`] on a connection the caller holds (the read and the transaction share it:
/// one checkout of the pool, and one ping when it goes back, instead of two).
pub async fn take_on(
    conn: &mut store::Conn,
    keys: &[(Vec<u8>, Policy)],
    now: i64,
) -> Result<(), Error> {
    // On PostgreSQL, counters within their free allowance (nearly every request) are
    // all counted in one round trip (and one past it is seen by a read that locks and
    // writes nothing); the rest of this function decides the others.
    let counters: Vec<(&[u8], u32, i64)> = keys
        .iter()
        .map(|(key, policy)| (key.as_slice(), policy.free, policy.forget_after_secs))
        .collect();
    if store::throttles::count_all_within_allowance(conn, &counters, now).await? == Some(true) {
        return Ok(());
    }
    // First one plain read of every counter: a request that must wait (most of a
    // storm) is refused by it, without a transaction that would lock rows while others
    // queue behind it. The transaction below decides for certain; this read only
    // spares it the attempts that are refused anyway.
    if let Some(wait) = wait_owed(conn, keys, now).await? {
        return Err(Error::too_many(wait as u64));
    }
    let mut tx = store::throttles::begin(conn).await?;
    for (n, (key, policy)) in keys.iter().enumerate() {
        if let Decision::Wait(secs) = take_one(&mut tx, key, policy, now).await? {
            let mut wait = secs;
            for (key, policy) in &keys[n + 1..] {
                let current = store::throttles::get(&mut *tx, key).await?;
                if let Decision::Wait(s) = policy.decide(current, now) {
                    wait = wait.max(s);
                }
            }
            tx.rollback().await?;
            return Err(Error::too_many(wait as u64));
        }
    }
    Ok(tx.commit().await?)
}

/// The longest wait that `keys`' counters owe now, if any.
async fn wait_owed(
    conn: &mut sqlx::AnyConnection,
    keys: &[(Vec<u8>, Policy)],
    now: i64,
) -> Result<Option<i64>, Error> {
    let names: Vec<&[u8]> = keys.iter().map(|(k, _)| k.as_slice()).collect();
    let rows = store::throttles::get_many(conn, &names).await?;
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
) -> Result<Decision, Error> {
    // Within the free allowance: one atomic statement. (Always a write first, so on
    // SQLite the transaction holds the write lock from its first statement on.)
    if store::throttles::count_within_allowance(
        &mut *conn,
        key,
        policy.free,
        policy.forget_after_secs,
        now,
    )
    .await?
    {
        return Ok(Decision::Allow);
    }
    // Past the allowance (or forgotten): read, decide, compare-and-swap. Each lost race
    // means another request was counted, so this ends quickly; the bound only keeps a
    // pathological storm from spinning.
    for _ in 0..1000 {
        let current = store::throttles::get(&mut *conn, key).await?;
        if let Decision::Wait(secs) = policy.decide(current, now) {
            return Ok(Decision::Wait(secs));
        }
        let next = policy.record_failure(current, now);
        if store::throttles::swap(&mut *conn, key, current, next).await? {
            return Ok(Decision::Allow);
        }
    }
    Ok(Decision::Wait(1))
}

/// Where a second factor is typed: its throttles are counted apart (see
/// [`SecretGuard::take_second_factor`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// At the second step of a sign-in, after the password.
    SecondStep,
    /// Inside the owner's signed-in session.
    InSession,
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
    ) -> Result<SecretGuard, Error> {
        let mut conn = state.db.acquire().await?;
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
    ) -> Result<SecretGuard, Error> {
        let keys = Self::keys(state, scope, account, &caller.ip_group());
        take_on(conn, &keys, now).await?;
        Ok(SecretGuard { keys })
    }

    /// [`SecretGuard::take`] for a second factor (an authenticator or recovery code):
    /// also counted against [`throttle::SECOND_FACTOR_DAY`], one count per account
    /// shared by every kind of code, so that someone who has the password cannot keep
    /// guessing codes all day at the short-window pace.
    ///
    /// Codes typed at the second step of a sign-in (`Where::SecondStep`) and codes
    /// typed inside the owner's own signed-in session (`Where::InSession`: viewing
    /// recovery codes, turning a method on or off) are counted apart: someone who has
    /// only the password, guessing at the second step, can exhaust the first but never
    /// lock the owner's own session out of the second.
    pub async fn take_second_factor(
        state: &AppState,
        scope: &str,
        user_id: i64,
        caller: &Caller,
        at: Where,
        now: i64,
    ) -> Result<SecretGuard, Error> {
        let (scope, day) = match at {
            Where::SecondStep => (scope.to_string(), format!("second-factor:day:{user_id}")),
            Where::InSession => (
                format!("in-session-{scope}"),
                format!("in-session-second-factor:day:{user_id}"),
            ),
        };
        let mut keys = Self::keys(state, &scope, &user_id.to_string(), &caller.ip_group());
        keys.push((
            state.keys.hash(Purpose::Throttle, &day),
            throttle::SECOND_FACTOR_DAY,
        ));
        take(state, &keys, now).await?;
        Ok(SecretGuard { keys })
    }

    /// The secret was right: the account's counters start again, and the address's
    /// (and the day's) counted attempt is given back.
    /// One transaction of counting (see [`store::throttles::begin`]): the address's
    /// counter, which every request from it updates, is locked for a round trip only.
    pub async fn succeeded(&self, state: &AppState) -> Result<(), Error> {
        let mut conn = state.db.acquire().await?;
        self.succeeded_on(&mut conn).await
    }

    /// [`SecretGuard::succeeded`] on a connection the caller holds.
    pub async fn succeeded_on(&self, conn: &mut store::Conn) -> Result<(), Error> {
        let keys: Vec<&[u8]> = self.keys.iter().map(|(k, _)| k.as_slice()).collect();
        let (cleared, refunded) = keys.split_at(2);
        if store::throttles::clear_and_refund_at_once(conn, cleared, refunded).await? {
            return Ok(());
        }
        let mut tx = store::throttles::begin(conn).await?;
        // One row at a time, in the order `take` locks them: a statement that locked
        // two rows at once would lock them in the table's order, and a double-sent
        // form's `take` could then wait on it while it waits on that `take`.
        for (key, _) in self.keys.iter().take(2) {
            store::throttles::clear(&mut *tx, key).await?;
        }
        for (key, _) in self.keys.iter().skip(2) {
            store::throttles::refund(&mut *tx, key).await?;
        }
        Ok(tx.commit().await?)
    }

    /// The attempt was never judged (the method is off, say): every count is given back.
    pub async fn not_judged(&self, state: &AppState) -> Result<(), Error> {
        for (key, _) in &self.keys {
            store::throttles::refund(&state.db, key).await?;
        }
        Ok(())
    }
}
