//! The authenticator app: enabling (four steps), recovery codes, disabling, and the
//! second step of sign-in.
use crate::model::mfa::{codes_proof, Method, MfaStatus, RecoveryCode, RecoveryCodes, TotpSetup};
use crate::server::audit::{log, notify};
use crate::server::auth::change::{Change, Notice, Sessions};
use crate::server::auth::factor::{self, authenticator_context, For, SecondFactor};
use crate::server::auth::identity::{confirm_identity, recent_proof};
use crate::server::auth::{not_signed_in, require_verified_email, Caller};
use crate::server::domain::phone;
use crate::server::domain::security_log::EventKind;
use crate::server::domain::tokens::Purpose;
use crate::server::domain::{recovery, totp};
use crate::server::error::{internal, Error, Result};
use crate::server::store;
use crate::server::AppState;
use serde_json::json;

pub async fn status(state: &AppState, caller: &Caller) -> Result<MfaStatus, Error> {
    let s = caller.signed_in()?;
    let row = store::mfa::status(&state.db, s.user_id).await?;
    Ok(MfaStatus {
        totp_enabled_at: row.totp_enabled_at,
        recovery_codes_left: usize::try_from(row.recovery_codes_left).unwrap_or(0),
        email_verified: s.email_verified,
        email_code_enabled_at: row.email_enabled_at,
        email: s.email.clone(),
        sms_enabled_at: row.sms_enabled_at,
        sms_number: row.sms_number.as_deref().map(phone::mask),
        sms_available: state.sms.is_some(),
        sms_default_country: state.config.sms.default_country.clone(),
        sms_countries: state.config.sms.countries.clone(),
        recovery_codes_retired: row.recovery_codes_retired_at.is_some(),
        // One more round trip only for an account that has passkeys.
        passkeys: if row.passkeys > 0 {
            super::passkeys::list(state, s.user_id).await?
        } else {
            Vec::new()
        },
        passkeys_available: state.webauthn.is_some(),
    })
}

/// Step 1 (identity, by password) and step 2 (the secret) of enabling. Nothing is
/// enabled until `confirm_totp` accepts a code.
/// Identity is the password, or an email code when Email Code is on (seed 003).
pub async fn start_totp(
    state: &AppState,
    caller: &Caller,
    password: &str,
    code: &str,
    now: i64,
) -> Result<TotpSetup, Error> {
    let s = caller.signed_in()?;
    require_verified_email(s)?;
    let user = store::users::by_id(&state.db, s.user_id)
        .await?
        .ok_or_else(not_signed_in)?;
    if store::mfa::totp(&state.db, user.id)
        .await?
        .is_some_and(|t| t.enabled_at.is_some())
    {
        return Err(already_enabled());
    }
    confirm_identity(state, caller, Method::Totp, password, code, now).await?;
    let secret = totp::new_secret();
    let sealed = state.sealer.seal(&secret, &authenticator_context(user.id));
    if !store::mfa::put_pending_totp(&state.db, user.id, &sealed, now).await? {
        return Err(already_enabled());
    }
    let uri = totp::otpauth_uri(&state.config.mfa.totp_issuer, &user.email, &secret);
    let qr = qrcode::QrCode::new(uri.as_bytes())?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(TotpSetup {
        qr_svg: svg,
        secret: totp::grouped_base32(&secret),
    })
}

/// A recovery code as stored: its keyed hash and the code sealed (it is shown again).
type StoredCode = (Vec<u8>, Vec<u8>);

/// Ten new codes for the account: as shown once (fresh, none used) and as stored.
fn new_codes(
    state: &AppState,
    user_id: i64,
    email: &str,
    now: i64,
) -> (RecoveryCodes, Vec<StoredCode>) {
    let plain = recovery::generate();
    let stored = plain
        .iter()
        .map(|c| {
            (
                state
                    .sealer
                    .seal(c.as_bytes(), &format!("recovery:{user_id}")),
                state
                    .keys
                    .hash(Purpose::RecoveryCode, &format!("{user_id}:{c}")),
            )
        })
        .collect();
    let shown = RecoveryCodes {
        account: email.to_string(),
        at: now,
        codes: plain
            .into_iter()
            .map(|code| RecoveryCode { code, used: false })
            .collect(),
    };
    (shown, stored)
}

pub struct Enabled {
    /// The ten recovery codes, when turning this method on issued them (see
    /// [`recovery::due_on_enable`]).
    pub codes: Option<RecoveryCodes>,
    pub session_token: String,
}

impl std::fmt::Debug for Enabled {
    // Neither the codes nor the session token go into any log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enabled")
            .field("codes", &self.codes.as_ref().map(|c| c.codes.len()))
            .finish_non_exhaustive()
    }
}

/// Inside the transaction of turning a method on: ten new recovery codes when the
/// account has none left to use (its first method), stored sealed and hashed; their
/// plain text for the step that shows them once.
pub(crate) async fn issue_codes_if_due(
    state: &AppState,
    tx: &mut store::Tx<'_>,
    user_id: i64,
    email: &str,
    now: i64,
) -> Result<Option<RecoveryCodes>, Error> {
    let unused = store::mfa::lock_unused_recovery_codes(tx, user_id).await?;
    if !recovery::due_on_enable(unused) {
        return Ok(None);
    }
    let (shown, stored) = new_codes(state, user_id, email, now);
    store::mfa::replace_recovery_codes(tx, user_id, &stored).await?;
    Ok(Some(shown))
}

/// Step 3: a code from the app turns the method on; step 4 shows the recovery codes.
pub async fn confirm_totp(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<Enabled, Error> {
    let s = caller.signed_in()?;
    require_verified_email(s)?;
    let waiting = store::mfa::totp(&state.db, s.user_id).await?;
    match waiting {
        Some(row) if row.enabled_at.is_none() => {}
        Some(_) => return Err(already_enabled()),
        None => {
            return Err(Error::invalid(
                "Start again: choose Enable and enter your password.",
            ))
        }
    }
    let checked = factor::check(
        state,
        caller,
        s.user_id,
        &s.email,
        SecondFactor::Authenticator,
        For::Enable,
        code,
        now,
    )
    .await?
    .secret_sealed
    .ok_or_else(|| internal("an accepted authenticator code without its secret"))?;
    let mut change = Change::of_caller(state, caller, now).await?;
    if !store::mfa::enable_totp(change.tx(), s.user_id, now, &checked).await? {
        // A racing confirmation got there first, or another "Enable" replaced the
        // secret this code was checked against: nothing is turned on.
        return Err(Error::invalid(
            "The authenticator app was enabled meanwhile, or its setup started again. Choose Enable to start over.",
        ));
    }
    let codes = issue_codes_if_due(state, change.tx(), s.user_id, &s.email, now).await?;
    let done = change
        .commit(
            Sessions::ContinueCaller,
            EventKind::MfaEnabled,
            json!({"method": "totp", "recovery_codes_issued": codes.is_some()}),
            Notice::new(
                "Authenticator app enabled",
                "an authenticator app was added to your account for two-step sign-in",
            ),
        )
        .await?;
    Ok(Enabled {
        codes,
        session_token: done.session_token.ok_or_else(not_signed_in)?,
    })
}

async fn read_codes(
    state: &AppState,
    user_id: i64,
    email: &str,
    now: i64,
) -> Result<RecoveryCodes, Error> {
    let rows = store::mfa::recovery_codes(&state.db, user_id).await?;
    let mut codes = Vec::with_capacity(rows.len());
    for row in rows {
        let plain = state
            .sealer
            .open(&row.code_sealed, &format!("recovery:{user_id}"))
            .ok_or_else(|| internal("recovery code does not open"))?;
        codes.push(RecoveryCode {
            code: String::from_utf8_lossy(&plain).into_owned(),
            used: row.used_at.is_some(),
        });
    }
    Ok(RecoveryCodes {
        account: email.to_string(),
        at: now,
        codes,
    })
}

/// The method whose code confirms showing or regenerating the recovery codes (see
/// [`codes_proof`]); an error when no method is on (then there are no codes).
pub(crate) async fn codes_method(state: &AppState, user_id: i64) -> Result<Method, Error> {
    let active = factor::active_methods(state, user_id).await?;
    codes_proof(&active).ok_or_else(|| {
        Error::invalid("Recovery codes come with two-step sign-in: turn a method on first.")
    })
}

/// "View Recovery Codes": a fresh code of an active method first (the authenticator's,
/// or one sent for this by email or SMS).
pub async fn view_codes(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<RecoveryCodes, Error> {
    let s = caller.signed_in()?;
    let method = codes_method(state, s.user_id).await?;
    factor::check(
        state,
        caller,
        s.user_id,
        &s.email,
        SecondFactor::of(method),
        For::Identity {
            adding: Some(Method::Recovery),
        },
        code,
        now,
    )
    .await?;
    log(
        state,
        caller,
        Some(s.user_id),
        EventKind::RecoveryCodesViewed,
        now,
        json!({"confirmed_with": method.as_str()}),
    )
    .await?;
    let codes = read_codes(state, s.user_id, &s.email, now).await?;
    // They open the account without the app: the owner hears of every showing.
    notify(
        state,
        caller,
        &s.email,
        "Your recovery codes were viewed",
        "your recovery codes were shown on the Security page. If this was not you, sign in, change your password and choose Regenerate",
        now,
    )
    .await?;
    Ok(codes)
}

/// "Regenerate": all ten replaced at once, while a proof of identity is recent (the
/// one rule of `auth::identity`; viewing the codes asks for a code, which is one).
pub async fn regenerate_codes(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<RecoveryCodes, Error> {
    let s = caller.signed_in()?;
    codes_method(state, s.user_id).await?;
    // Not the password here: the page asks for a fresh code in place (seed 002).
    if !recent_proof(state, caller, now).await? {
        return Err(Error::forbidden(
            "Enter a current code again to regenerate your recovery codes.",
        ));
    }
    let (shown, stored) = new_codes(state, s.user_id, &s.email, now);
    let mut change = Change::of_caller(state, caller, now).await?;
    store::mfa::replace_recovery_codes(change.tx(), s.user_id, &stored).await?;
    change
        .commit(
            Sessions::Keep,
            EventKind::RecoveryCodesRegenerated,
            json!({}),
            Notice::new(
                "New recovery codes",
                "new recovery codes were generated for your account and the old ones no longer work",
            ),
        )
        .await?;
    Ok(shown)
}

/// "Disable": a current code turns the method off; the recovery codes go with it when
/// it was the last method on.
pub async fn disable_totp(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<String, Error> {
    let s = caller.signed_in()?;
    factor::check(
        state,
        caller,
        s.user_id,
        &s.email,
        SecondFactor::Authenticator,
        For::Disable,
        code,
        now,
    )
    .await?;
    let mut change = Change::of_caller(state, caller, now).await?;
    store::mfa::delete_totp(change.tx(), s.user_id).await?;
    let codes_gone = store::mfa::delete_recovery_codes_if_no_method(change.tx(), s.user_id).await?;
    let done = change
        .commit(
            Sessions::ContinueCaller,
            EventKind::MfaDisabled,
            json!({"method": "totp", "recovery_codes_removed": codes_gone}),
            Notice::telling_sign_in(
                "Authenticator app disabled",
                "the authenticator app was removed from your account",
            ),
        )
        .await?;
    done.session_token.ok_or_else(not_signed_in)
}

fn already_enabled() -> Error {
    Error::invalid("The authenticator app is already enabled.")
}
