//! Every change of an account's credentials or factors (the password changed or reset,
//! a method turned on or off, new recovery codes) ends the same way, written once
//! here: in one transaction the change itself, the sessions (the caller's under a new
//! id, every other one ended) and the security-log entry; after the commit, the notice
//! to the owner, worded from the methods the account has left.
use super::factor::active_methods;
use super::session::rotate_session;
use super::{not_signed_in, Caller};
use crate::model::mfa::sign_in_after;
use crate::server::audit::{log_within, notify};
use crate::server::domain::security_log::EventKind;
use crate::server::error::Result;
use crate::server::{store, AppState};
use serde_json::Value;

/// What happens to the account's sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    /// The caller's sign-in goes on under a new session id; every other session ends.
    ContinueCaller,
    /// Every session of the account ends (a reset by emailed link signs nobody in).
    EndAll,
    /// Sessions are left as they are (new recovery codes change no factor).
    Keep,
}

/// The mail the owner gets once the change is committed.
pub struct Notice {
    pub subject: String,
    pub what: String,
    /// Whether the mail says what signing in asks for now (a method turned off).
    pub tells_sign_in: bool,
}

impl Notice {
    pub fn new(subject: impl Into<String>, what: impl Into<String>) -> Notice {
        Notice {
            subject: subject.into(),
            what: what.into(),
            tells_sign_in: false,
        }
    }

    /// A notice that ends with what signing in asks for, from the methods left on.
    pub fn telling_sign_in(subject: impl Into<String>, what: impl Into<String>) -> Notice {
        Notice {
            tells_sign_in: true,
            ..Notice::new(subject, what)
        }
    }
}

/// A change under way: its transaction is open.
pub struct Change<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    user_id: i64,
    now: i64,
    tx: store::Tx<'static>,
}

/// What a committed change gives back: the caller's new session token, when the
/// caller's sign-in continues.
pub struct Committed {
    pub session_token: Option<String>,
}

impl<'a> Change<'a> {
    /// A change of the signed-in caller's own account.
    pub async fn of_caller(state: &'a AppState, caller: &'a Caller, now: i64) -> Result<Self> {
        let user_id = caller.signed_in()?.user_id;
        Self::of_account(state, caller, user_id, now).await
    }

    /// A change of account `user_id`, whoever asks (a reset link's holder).
    pub async fn of_account(
        state: &'a AppState,
        caller: &'a Caller,
        user_id: i64,
        now: i64,
    ) -> Result<Self> {
        let tx = state.db.begin().await?;
        Ok(Change {
            state,
            caller,
            user_id,
            now,
            tx,
        })
    }

    /// Begins on a transaction already open (one that found the account, say).
    pub fn within(
        state: &'a AppState,
        caller: &'a Caller,
        user_id: i64,
        now: i64,
        tx: store::Tx<'static>,
    ) -> Self {
        Change {
            state,
            caller,
            user_id,
            now,
            tx,
        }
    }

    /// The change's transaction, for the change itself.
    pub fn tx(&mut self) -> &mut store::Tx<'static> {
        &mut self.tx
    }

    /// Ends the change: the sessions as `sessions` says, the log entry `kind` with
    /// `detail` (and how many sessions ended), the commit; then `notice` to the owner.
    pub async fn commit(
        mut self,
        sessions: Sessions,
        kind: EventKind,
        mut detail: Value,
        notice: Notice,
    ) -> Result<Committed> {
        let (state, caller, user_id, now) = (self.state, self.caller, self.user_id, self.now);
        let mut session_token = None;
        match sessions {
            Sessions::ContinueCaller => {
                if caller.session().map(|s| s.user_id) != Some(user_id) {
                    return Err(not_signed_in());
                }
                let (token, others) = rotate_session(&mut self.tx, state, caller, now).await?;
                session_token = Some(token);
                detail["other_sessions_ended"] = others.into();
            }
            Sessions::EndAll => {
                let ended = store::sessions::delete_for_user(&mut self.tx, user_id, None).await?;
                detail["sessions_ended"] = ended.into();
            }
            Sessions::Keep => {}
        }
        if sessions != Sessions::Keep {
            // Sign-ins in flight that checked the old credentials store nothing now.
            store::users::bump_credential_version(&mut self.tx, user_id).await?;
        }
        log_within(&mut self.tx, caller, Some(user_id), kind, now, detail).await?;
        self.tx.commit().await?;
        if let Some(user) = store::users::by_id(&state.db, user_id).await? {
            let what = if notice.tells_sign_in {
                let left = active_methods(state, user_id).await?;
                format!("{}: {}", notice.what, sign_in_after(&left))
            } else {
                notice.what
            };
            notify(state, caller, &user.email, &notice.subject, &what, now).await?;
        }
        Ok(Committed { session_token })
    }
}
