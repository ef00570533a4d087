//! The "Multi-factor authentication" section: the Email Code block (see `email_code`)
//! and the Authenticator App Code block with its Enable (four steps), View Recovery
//! Codes and Disable dialogs.
use super::email_code::{
    follow_send, send_error, DisableCodeMethod, EmailCodeState, EnableEmailCode, SentNote,
};
use super::passkeys::{
    prove_with_passkey, AddPasskey, PasskeyProofNote, PasskeysState, RemovePasskey, RenamePasskey,
};
use super::sms_code::{EnableSmsCode, SmsCodeState};
use crate::api::mfa::{
    confirm_email_code, confirm_sms_code, confirm_totp, disable_email_code, disable_sms_code,
    disable_totp, get_mfa_status, regenerate_recovery_codes, request_identity_code,
    request_recovery_codes_code, start_totp, view_recovery_codes,
};
use crate::components::{
    focus_when_present, submit_once, CodeInput, CopyButton, Dialog, FormAlert, PasswordField,
    RecoveryCodeList, ResendButton, ResendClock, SubmitButton, Toast,
};
use crate::model::error::ApiError;
use crate::model::mfa::{
    codes_proof, sign_in_after, IdentityProof, Method, MfaStatus, PasskeyInfo, RecoveryCodes,
    TotpSetup,
};
use crate::model::time::format_date;
use crate::pages::{field_error, general_error};
use leptos::prelude::*;

#[component]
pub fn MfaSection() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_mfa_status());
    let enable_open = RwSignal::new(false);
    let view_open = RwSignal::new(false);
    let disable_open = RwSignal::new(false);
    let toast = RwSignal::new(None::<String>);
    // Where focus goes once the section shows its new state: the button that replaced
    // the one the dialog would have returned focus to, or else the opener again (the
    // section is drawn afresh, so the browser's own return of focus is lost).
    let focus_next = StoredValue::new(None::<String>);
    // The security checklist at the top of the page follows what changes here.
    let account_changed = use_context::<super::AccountChanged>();
    let changed = move |message: String, next: &str| {
        focus_next.set_value(Some(next.into()));
        status.refetch();
        if let Some(c) = account_changed {
            c.0.update(|n| *n += 1);
        }
        toast.set(Some(message));
    };
    // The requests that change the account belong to the section, not to a dialog: a
    // dialog closed while one is in flight does not lose its outcome.
    let confirm = Action::new(|c: &String| {
        let c = c.clone();
        async move { confirm_totp(c).await }
    });
    let regenerate = Action::new(|_: &()| regenerate_recovery_codes());
    let disable = Action::new(|c: &String| {
        let c = c.clone();
        async move { disable_totp(c).await }
    });
    let email_enable_open = RwSignal::new(false);
    let email_disable_open = RwSignal::new(false);
    let confirm_email = Action::new(|c: &String| {
        let c = c.clone();
        async move { confirm_email_code(c).await }
    });
    let disable_email = Action::new(|c: &String| {
        let c = c.clone();
        async move { disable_email_code(c).await }
    });
    // Turning on the account's first method ends with its recovery codes.
    let email_codes = RwSignal::new(None::<RecoveryCodes>);
    let email_unsaved = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(codes)) = confirm_email.value().get() {
            match codes {
                Some(c) => email_codes.set(Some(c)),
                None => email_enable_open.set(false),
            }
            changed("Email codes turned on.".into(), "email-disable");
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = disable_email.value().get() {
            email_disable_open.set(false);
            changed("Email codes turned off.".into(), "email-enable");
        }
    });
    let sms_enable_open = RwSignal::new(false);
    let sms_disable_open = RwSignal::new(false);
    let confirm_sms = Action::new(|c: &String| {
        let c = c.clone();
        async move { confirm_sms_code(c).await }
    });
    let disable_sms = Action::new(|c: &String| {
        let c = c.clone();
        async move { disable_sms_code(c).await }
    });
    let sms_codes = RwSignal::new(None::<RecoveryCodes>);
    let sms_unsaved = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(codes)) = confirm_sms.value().get() {
            match codes {
                Some(c) => sms_codes.set(Some(c)),
                None => sms_enable_open.set(false),
            }
            changed("SMS codes turned on.".into(), "sms-disable");
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = disable_sms.value().get() {
            sms_disable_open.set(false);
            changed("SMS codes turned off.".into(), "sms-enable");
        }
    });
    let open_sms_enable = Callback::new(move |_: ()| {
        confirm_sms.value().set(None);
        sms_codes.set(None);
        sms_enable_open.set(true);
    });
    let open_sms_disable = Callback::new(move |_: ()| {
        disable_sms.value().set(None);
        sms_disable_open.set(true);
    });
    // Passkeys: "Add a passkey" (ending with the recovery codes when it is the first
    // method), "Rename" and "Remove" of the one chosen.
    let passkey_add_open = RwSignal::new(false);
    let passkey_added = RwSignal::new(None::<Option<RecoveryCodes>>);
    let passkey_unsaved = RwSignal::new(false);
    let passkey_rename_open = RwSignal::new(false);
    let passkey_remove_open = RwSignal::new(false);
    let passkey_chosen = RwSignal::new(None::<PasskeyInfo>);
    let passkey_renamed = RwSignal::new(None::<String>);
    let passkey_removed = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(codes) = passkey_added.get() {
            if codes.is_none() {
                passkey_add_open.set(false);
            }
            changed("Passkey added.".into(), "passkey-add");
        }
    });
    Effect::new(move |_| {
        if let Some(name) = passkey_renamed.get() {
            passkey_rename_open.set(false);
            let id = passkey_chosen
                .get_untracked()
                .map(|p| p.id)
                .unwrap_or_default();
            changed(
                format!("Passkey renamed to “{name}”."),
                &format!("passkey-rename-{id}"),
            );
        }
    });
    Effect::new(move |_| {
        if passkey_removed.get() {
            passkey_remove_open.set(false);
            changed("Passkey removed.".into(), "passkey-add");
        }
    });
    let open_passkey_add = Callback::new(move |_: ()| {
        passkey_added.set(None);
        passkey_add_open.set(true);
    });
    let open_passkey_rename = Callback::new(move |p: PasskeyInfo| {
        passkey_renamed.set(None);
        passkey_chosen.set(Some(p));
        passkey_rename_open.set(true);
    });
    let open_passkey_remove = Callback::new(move |p: PasskeyInfo| {
        passkey_removed.set(false);
        passkey_chosen.set(Some(p));
        passkey_remove_open.set(true);
    });
    // A passkey dialog closed (perhaps mid-request): the section shows what the server
    // now holds, and the focus goes back to it.
    // Which passkey dialog was open last (to give the focus back to its opener).
    let rename_was_open = StoredValue::new(false);
    let add_was_open = StoredValue::new(false);
    Effect::new(move |before: Option<bool>| {
        let (add, rename, remove) = (
            passkey_add_open.get(),
            passkey_rename_open.get(),
            passkey_remove_open.get(),
        );
        let now = add || rename || remove;
        if now {
            rename_was_open.set_value(rename);
            add_was_open.set_value(add);
        }
        if before == Some(true) && !now {
            if focus_next.get_value().is_none() {
                // Back to the button that opened it.
                let opener = match (add_was_open.get_value(), passkey_chosen.get_untracked()) {
                    (false, Some(p)) if rename_was_open.get_value() => {
                        format!("passkey-rename-{}", p.id)
                    }
                    (false, Some(p)) => format!("passkey-remove-{}", p.id),
                    _ => "passkey-add".to_string(),
                };
                focus_next.set_value(Some(opener));
            }
            status.refetch();
        }
        now
    });
    // What the dialogs need to know of the section's state as they open.
    let loaded = move || status.get().and_then(|r| r.ok());
    let active = move || loaded().map(|s| s.active()).unwrap_or_default();
    let last_method = Signal::derive(move || active().len() <= 1);
    let left_without_app = Signal::derive(move || {
        active()
            .into_iter()
            .filter(|m| *m != Method::Totp)
            .collect::<Vec<_>>()
    });
    let verified = move || loaded().is_some_and(|s| s.email_verified);
    Effect::new(move |_| {
        if let Some(Ok(codes)) = confirm.value().get() {
            if codes.is_none() {
                // The recovery codes saved with another method stay: nothing to show.
                enable_open.set(false);
            }
            changed("Authenticator app enabled.".into(), "totp-disable");
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = regenerate.value().get() {
            changed(
                "New recovery codes generated. The old ones no longer work.".into(),
                "recovery-view-codes",
            );
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = disable.value().get() {
            disable_open.set(false);
            changed("Authenticator app disabled.".into(), "totp-enable");
        }
    });
    // Each opening starts afresh.
    let open_enable = move |_| {
        confirm.value().set(None);
        enable_open.set(true);
    };
    let open_view = Callback::new(move |_: ()| {
        regenerate.value().set(None);
        view_open.set(true);
    });
    let open_disable = move |_| {
        disable.value().set(None);
        disable_open.set(true);
    };
    let open_email_enable = Callback::new(move |_: ()| {
        confirm_email.value().set(None);
        email_codes.set(None);
        email_enable_open.set(true);
    });
    let open_email_disable = Callback::new(move |_: ()| {
        disable_email.value().set(None);
        email_disable_open.set(true);
    });
    let any_open = move || {
        enable_open.get()
            || view_open.get()
            || disable_open.get()
            || email_enable_open.get()
            || email_disable_open.get()
            || sms_enable_open.get()
            || sms_disable_open.get()
            || passkey_add_open.get()
            || passkey_rename_open.get()
            || passkey_remove_open.get()
    };
    // A dialog closed (perhaps while its request was in flight): the section shows what
    // the server now holds, and the focus goes back to it.
    Effect::new(move |before: Option<[bool; 7]>| {
        let now = [
            enable_open.get(),
            view_open.get(),
            disable_open.get(),
            email_enable_open.get(),
            email_disable_open.get(),
            sms_enable_open.get(),
            sms_disable_open.get(),
        ];
        if let Some(before) = before {
            let openers = [
                "totp-enable",
                "recovery-view-codes",
                "totp-disable",
                "email-enable",
                "email-disable",
                "sms-enable",
                "sms-disable",
            ];
            if let Some(i) = (0..7).find(|&i| before[i] && !now[i]) {
                if focus_next.get_value().is_none() {
                    focus_next.set_value(Some(openers[i].into()));
                }
                status.refetch();
            }
        }
        now
    });
    Effect::new(move |_| {
        // Runs when the section's data arrives, not when a dialog closes (that would
        // focus the old button, about to be replaced).
        let loaded = status.get().is_some();
        if loaded && !untrack(any_open) {
            if let Some(id) = focus_next.get_value() {
                focus_next.set_value(None);
                focus_when_present(id);
            }
        }
    });
    view! {
        <section class="card section" aria-labelledby="mfa-title">
            <div class="section-text">
                <h2 id="mfa-title">"Multi-factor authentication"</h2>
                <p class="muted">"At sign-in you enter your password and a one-time code, from whichever of your methods you pick. This keeps your account safe even if your password leaks."</p>
                <div class="method" role="group" aria-labelledby="passkeys-title">
                    <h3 id="passkeys-title">"Passkeys " <span class="badge badge-success">"Most secure"</span></h3>
                    <p class="muted">"Sign in with your fingerprint, face or screen lock, with no password and no code. A passkey cannot be phished: it only works on this site."</p>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            status.await.ok().map(|s| view! {
                                <PasskeysState status=s on_add=open_passkey_add on_rename=open_passkey_rename on_remove=open_passkey_remove/>
                            })
                        })}
                    </Suspense>
                </div>
                <div class="method" role="group" aria-labelledby="email-code-title">
                    <h3 id="email-code-title">"Email Code"</h3>
                    <p class="muted">"One-time codes sent to your registered email address. Nothing to install."</p>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            status.await.ok().map(|s| view! {
                                <EmailCodeState status=s on_enable=open_email_enable on_disable=open_email_disable/>
                            })
                        })}
                    </Suspense>
                </div>
                <div class="method" role="group" aria-labelledby="totp-title">
                    <h3 id="totp-title">"Authenticator App Code"</h3>
                    <p class="muted">"Six-digit codes from an app such as Google Authenticator, Authy, 1Password or Bitwarden."</p>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match status.await {
                                Err(e) => view! {
                                    <div class="alert alert-error" role="alert">
                                        {format!("This section could not be loaded: {e}")}
                                    </div>
                                    <button type="button" class="btn btn-secondary" on:click=move |_| status.refetch()>"Try Again"</button>
                                }.into_any(),
                                Ok(s) => match s.totp_enabled_at {
                                    Some(at) => view! {
                                        <p class="section-state">
                                            <span class="badge badge-success">"Enabled"</span>
                                            {format!(" since {}", format_date(at))}
                                        </p>
                                        <div class="method-actions">
                                            <button type="button" id="totp-disable" class="btn btn-danger" on:click=open_disable>"Disable"</button>
                                        </div>
                                    }.into_any(),
                                    None if !s.email_verified => view! {
                                        <p class="section-state"><span class="badge badge-muted">"Not enabled"</span></p>
                                        <p class="notice notice-warning" id="totp-needs-verified">
                                            "Verify your email address before you turn this on: follow the link in the email we sent you, or choose “Resend Verification Email” at the top of this page."
                                        </p>
                                    }.into_any(),
                                    None => view! {
                                        <p class="section-state"><span class="badge badge-muted">"Not enabled"</span></p>
                                        <p class="notice notice-info">
                                            "We recommend turning this on: with it, a stolen password alone no longer opens your account."
                                        </p>
                                        <div class="method-actions">
                                            <button type="button" id="totp-enable" class="btn btn-secondary" on:click=open_enable>"Enable"</button>
                                        </div>
                                    }.into_any(),
                                },
                            }
                        })}
                    </Suspense>
                </div>
                <div class="method" role="group" aria-labelledby="sms-code-title">
                    <h3 id="sms-code-title">"SMS Code"</h3>
                    <p class="muted">"Codes sent by text message to your phone. The weakest method: use it only if you cannot use the others."</p>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            status.await.ok().map(|s| view! {
                                <SmsCodeState status=s on_enable=open_sms_enable on_disable=open_sms_disable/>
                            })
                        })}
                    </Suspense>
                </div>
                <div class="method" role="group" aria-labelledby="recovery-title">
                    <h3 id="recovery-title">"Recovery Codes"</h3>
                    <p class="muted">"Ten single-use codes, each of which signs you in once instead of a method: your way back in if you lose your phone or cannot get a code."</p>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            status.await.ok().map(|s| view! { <RecoveryState status=s on_view=open_view/> })
                        })}
                    </Suspense>
                </div>
            </div>
        </section>
        <Dialog open=email_enable_open title="Enable Email Code" id="enable-email" toast=toast confirm_close=unsaved_question(email_unsaved)>
            {move || match email_codes.get() {
                Some(c) => view! { <SaveCodes codes=c open=email_enable_open unsaved=email_unsaved step="Step 3 of 3: Save your recovery codes"/> }.into_any(),
                None => untrack(move || view! {
                    <EnableEmailCode
                        open=email_enable_open
                        confirm=confirm_email
                        proof=IdentityProof::for_adding(Method::Email, &active())
                        verified=verified()
                        codes_due=codes_due(loaded())
                    />
                }).into_any(),
            }}
        </Dialog>
        <Dialog open=sms_enable_open title="Enable SMS Code" id="enable-sms" toast=toast confirm_close=unsaved_question(sms_unsaved)>
            {move || match sms_codes.get() {
                Some(c) => view! { <SaveCodes codes=c open=sms_enable_open unsaved=sms_unsaved step="Step 3 of 3: Save your recovery codes"/> }.into_any(),
                None => untrack(move || view! {
                    <EnableSmsCode
                        open=sms_enable_open
                        confirm=confirm_sms
                        proof=IdentityProof::for_adding(Method::Sms, &active())
                        verified=verified()
                        codes_due=codes_due(loaded())
                        default_country=loaded().map(|s| s.sms_default_country).unwrap_or_else(|| "GB".into())
                        countries=loaded().map(|s| s.sms_countries).unwrap_or_default()
                    />
                }).into_any(),
            }}
        </Dialog>
        <Dialog open=passkey_add_open title="Add a Passkey" id="add-passkey" toast=toast confirm_close=unsaved_question(passkey_unsaved)>
            {move || match passkey_added.get() {
                Some(Some(c)) => view! { <SaveCodes codes=c open=passkey_add_open unsaved=passkey_unsaved step="Save your recovery codes"/> }.into_any(),
                // Added without codes: the dialog is closing.
                Some(None) => ().into_any(),
                None => untrack(move || view! { <AddPasskey open=passkey_add_open added=passkey_added/> }).into_any(),
            }}
        </Dialog>
        <Dialog open=passkey_rename_open title="Rename Passkey" id="rename-passkey" toast=toast>
            {move || passkey_chosen.get().map(|p| view! { <RenamePasskey open=passkey_rename_open passkey=p renamed=passkey_renamed/> })}
        </Dialog>
        <Dialog open=passkey_remove_open title="Remove Passkey" id="remove-passkey" toast=toast>
            {move || passkey_chosen.get().map(|p| {
                let (active, count) = untrack(move || (active(), loaded().map(|s| s.passkeys.len()).unwrap_or(1)));
                view! { <RemovePasskey open=passkey_remove_open passkey=p active=active passkeys=count removed=passkey_removed/> }
            })}
        </Dialog>
        <Dialog open=sms_disable_open title="Disable SMS Code" id="disable-sms" toast=toast>
            {move || view! { <DisableCodeMethod channel="sms" open=sms_disable_open action=disable_sms last=untrack(move || last_method.get())/> }}
        </Dialog>
        <Dialog open=email_disable_open title="Disable Email Code" id="disable-email" toast=toast>
            {move || view! { <DisableCodeMethod channel="email" open=email_disable_open action=disable_email last=untrack(move || last_method.get())/> }}
        </Dialog>
        <EnableDialog
            open=enable_open
            confirm=confirm
            toast=toast
            proof=Signal::derive(move || IdentityProof::for_adding(Method::Totp, &active()))
        />
        <Dialog open=view_open title="Recovery Codes" id="recovery-codes" toast=toast>
            {move || view! {
                <ViewCodes open=view_open regenerate=regenerate proof=codes_proof(&untrack(active)).unwrap_or(Method::Totp)/>
            }}
        </Dialog>
        <Dialog open=disable_open title="Disable Authenticator App" id="disable-totp" toast=toast>
            <DisableTotp open=disable_open action=disable remaining=left_without_app/>
        </Dialog>
        <Toast message=toast/>
    }
}

/// Whether turning a method on now brings recovery codes (the account has none left).
fn codes_due(status: Option<MfaStatus>) -> bool {
    status.is_some_and(|s| s.recovery_codes_left == 0)
}

/// The question an Enable dialog asks before it closes on unsaved recovery codes.
fn unsaved_question(unsaved: RwSignal<bool>) -> Signal<Option<&'static str>> {
    Signal::derive(move || {
        unsaved.get().then_some(
            "You have not ticked “I have saved these codes”. Close anyway? They are not shown again without a fresh code.",
        )
    })
}

/// The Recovery Codes block: how many are left, and "View Recovery Codes" while any
/// method is on (the codes come with the first one).
#[component]
fn RecoveryState(status: MfaStatus, on_view: Callback<()>) -> impl IntoView {
    if status.active().is_empty() {
        return view! {
            <p class="section-state"><span class="badge badge-muted">"None"</span></p>
            <p class="muted">"You get ten when you turn on your first method."</p>
        }
        .into_any();
    }
    let left = status.recovery_codes_left;
    view! {
        <p class="section-state">
            {format!("{} recovery code{} left", left, if left == 1 { "" } else { "s" })}
        </p>
        {if status.recovery_codes_retired {
            Some(view! {
                <p class="notice notice-warning" id="recovery-codes-retired">
                    "Your recovery codes were of an older, shorter kind and no longer work. Open “View Recovery Codes” and choose Regenerate to get ten new ones."
                </p>
            }.into_any())
        } else {
            (left <= 3).then(|| view! {
                <p class="notice notice-warning">
                    {format!("Only {left} recovery code{} left. Open “View Recovery Codes” and regenerate them to get a fresh set of 10.", if left == 1 { "" } else { "s" })}
                </p>
            }.into_any())
        }}
        <div class="method-actions">
            <button type="button" id="recovery-view-codes" class="btn btn-secondary" on:click=move |_| on_view.run(())>"View Recovery Codes"</button>
        </div>
    }
    .into_any()
}

/// The last step of turning on a first method: the ten recovery codes, to download or
/// store, and Done once "I have saved these codes" is ticked. While unticked, closing
/// the dialog asks first (`unsaved`).
#[component]
fn SaveCodes(
    codes: RecoveryCodes,
    open: RwSignal<bool>,
    unsaved: RwSignal<bool>,
    /// The step's heading, when the dialog has none of its own for it.
    step: &'static str,
) -> impl IntoView {
    let saved = RwSignal::new(false);
    Effect::new(move |_| unsaved.set(!saved.get()));
    on_cleanup(move || unsaved.set(false));
    if !step.is_empty() {
        focus_when_present("save-codes-step");
    }
    view! {
        {(!step.is_empty()).then(|| view! {
            <h3 class="step-count" id="save-codes-step" tabindex="-1" aria-live="polite">{step}</h3>
        })}
        <p class="notice notice-warning">
            "Save these recovery codes now. Each one signs you in once if you lose access to your methods: it is your only way back in without them. They are not shown again without a fresh code."
        </p>
        <p class="muted" id="codes-store-tip">"Store them in a password manager, or print them and keep them somewhere safe."</p>
        <RecoveryCodeList codes=codes/>
        <label class="checkbox">
            <input type="checkbox" prop:checked=move || saved.get() on:change=move |ev| saved.set(event_target_checked(&ev))/>
            " I have saved these codes"
        </label>
        <p class="muted" id="done-rule">"Tick the box once the codes are somewhere safe; then choose Done."</p>
        <div class="dialog-actions">
            <button type="button" class="btn btn-primary" aria-describedby="done-rule" disabled=move || !saved.get() on:click=move |_| open.set(false)>"Done"</button>
        </div>
    }
}

/// The Enable dialog: step 4 (the recovery codes) is not left by accident.
#[component]
fn EnableDialog(
    open: RwSignal<bool>,
    confirm: Action<String, Result<Option<RecoveryCodes>, ApiError>>,
    toast: RwSignal<Option<String>>,
    proof: Signal<IdentityProof>,
) -> impl IntoView {
    let unsaved = RwSignal::new(false);
    view! {
        <Dialog open=open title="Enable Authenticator App" id="enable-totp" confirm_close=unsaved_question(unsaved) toast=toast>
            {move || view! { <EnableTotp open=open confirm=confirm unsaved=unsaved proof=proof.get_untracked()/> }}
        </Dialog>
    }
}

/// What each step is about, for its heading (announced as the step changes).
fn step_title(step: u8) -> &'static str {
    match step {
        1 => "Confirm it is you",
        2 => "Scan the QR code",
        3 => "Enter a code from the app",
        _ => "Save your recovery codes",
    }
}

#[component]
fn EnableTotp(
    open: RwSignal<bool>,
    confirm: Action<String, Result<Option<RecoveryCodes>, ApiError>>,
    unsaved: RwSignal<bool>,
    proof: IdentityProof,
) -> impl IntoView {
    let step = RwSignal::new(1u8);
    let password = RwSignal::new(String::new());
    let identity_code = RwSignal::new(String::new());
    // With Email Code on, step 1 is a code sent to the address as the dialog opens.
    let clock = ResendClock::new();
    let identity_note = RwSignal::new(None::<String>);
    let identity_sent = Action::new(|_: &()| request_identity_code("totp".into()));
    Effect::new(move |_| {
        if let Some(answer) = identity_sent.value().get() {
            follow_send(clock, identity_note, &answer);
        }
    });
    if proof == IdentityProof::EmailCode {
        identity_sent.dispatch(());
    }
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let setup = RwSignal::new(None::<TotpSetup>);
    let codes = RwSignal::new(None::<RecoveryCodes>);
    let start = Action::new(|(p, c): &(String, Option<String>)| {
        let (p, c) = (p.clone(), c.clone());
        async move { start_totp(p, c).await }
    });
    let passkey_error = RwSignal::new(None::<String>);
    let proving = RwSignal::new(false);
    let submit_identity = move || {
        if proof == IdentityProof::Passkey {
            prove_with_passkey(passkey_error, proving, move |json| {
                start.dispatch((String::new(), Some(json)));
            });
            return;
        }
        let code = (proof == IdentityProof::EmailCode).then(|| identity_code.get_untracked());
        start.dispatch((password.get_untracked(), code));
    };
    let on_identity_code = Callback::new(move |_: ()| submit_identity());
    let (start_value, confirm_value) = (start.value(), confirm.value());
    Effect::new(move |_| {
        if let Some(Ok(s)) = start_value.get() {
            setup.set(Some(s));
            step.set(2);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(Some(c))) = confirm_value.get() {
            codes.set(Some(c));
            step.set(4);
        }
    });
    let submit_code = Callback::new(move |_: ()| submit_once(confirm, code, last));
    // Each new step takes the focus: its field, or its heading when it has none.
    Effect::new(move |previous: Option<u8>| {
        let now = step.get();
        if previous.is_some_and(|p| p != now) {
            focus_when_present(match now {
                3 => "field-code",
                _ => "enable-totp-step",
            });
        }
        now
    });
    view! {
        <div class="dialog-body">
            <h3 class="step-count" id="enable-totp-step" tabindex="-1" aria-live="polite">
                {move || format!("Step {} of 4: {}", step.get(), step_title(step.get()))}
            </h3>
            {move || match step.get() {
                1 => view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_identity(); } novalidate>
                        <FormAlert message=general_error(start_value)/>
                        {if proof == IdentityProof::Passkey {
                            view! {
                                <PasskeyProofNote intro="First, confirm it is you with your passkey: choose Continue, then follow your browser's prompt." error=passkey_error/>
                                <div class="dialog-actions"><SubmitButton label="Continue" pending=Signal::derive(move || start.pending().get() || proving.get())/></div>
                            }.into_any()
                        } else if proof == IdentityProof::EmailCode {
                            view! {
                                <p>"First, enter the 6-digit code we send to your email address."</p>
                                <SentNote note=identity_note/>
                                <FormAlert message=send_error(identity_sent)/>
                                <CodeInput value=identity_code error=field_error(start_value, "code") on_complete=on_identity_code/>
                                <div class="dialog-actions">
                                    <ResendButton clock=clock pending=identity_sent.pending() on_request=Callback::new(move |_| { identity_sent.dispatch(()); })/>
                                    <SubmitButton label="Continue" pending=start.pending()/>
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <p>"First, enter your password."</p>
                                <PasswordField label="Password" name="password" value=password error=field_error(start_value, "password")/>
                                <div class="dialog-actions"><SubmitButton label="Continue" pending=start.pending()/></div>
                            }.into_any()
                        }}
                    </form>
                }.into_any(),
                2 => {
                    let s = setup.get_untracked().unwrap_or(TotpSetup { qr_svg: String::new(), secret: String::new() });
                    view! {
                        <p>"Scan this QR code with your authenticator app."</p>
                        <div class="qr" role="img" aria-label="QR code" inner_html=s.qr_svg></div>
                        <p class="muted">"Cannot scan? Add the account by hand with this key."</p>
                        <p class="secret-label" id="secret-key-label">"Secret key"</p>
                        <p class="secret mono" aria-labelledby="secret-key-label" role="group">{s.secret.clone()}</p>
                        <CopyButton text=s.secret.replace(' ', "") label="Copy Key" copied="Secret key copied." failed="Could not copy: select the key and copy it by hand."/>
                        <p class="notice notice-info" id="secret-key-tip">"Save the secret key in a secure location: you'll need it if you change or lose your phone."</p>
                        <div class="dialog-actions">
                            <button type="button" class="btn btn-primary" on:click=move |_| step.set(3)>"Continue"</button>
                        </div>
                    }.into_any()
                }
                3 => view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_code.run(()); } novalidate>
                        <p>"Enter the 6-digit code your app shows now."</p>
                        <FormAlert message=general_error(confirm_value)/>
                        <CodeInput value=code error=field_error(confirm_value, "code") on_complete=submit_code/>
                        <div class="dialog-actions">
                            <button type="button" class="btn btn-secondary" on:click=move |_| step.set(2)>"Back"</button>
                            <SubmitButton label="Verify" pending=confirm.pending()/>
                        </div>
                    </form>
                }.into_any(),
                _ => codes.get_untracked().map(|c| view! {
                    <SaveCodes codes=c open=open unsaved=unsaved step=""/>
                }).into_any(),
            }}
        </div>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CodesView {
    /// Asking for a code to show the codes.
    Ask,
    Shown,
    /// "Regenerate" was chosen: asking to confirm.
    ConfirmRegenerate,
    /// The code check is too old to regenerate: asking for a fresh code first.
    FreshCode,
}

#[component]
fn ViewCodes(
    open: RwSignal<bool>,
    regenerate: Action<(), Result<RecoveryCodes, ApiError>>,
    /// The method whose code confirms it (see `codes_proof`).
    proof: Method,
) -> impl IntoView {
    let sends = matches!(proof, Method::Email | Method::Sms);
    // Email and SMS: a code is sent as the dialog opens, and on "Request Code".
    let clock = ResendClock::new();
    let note = RwSignal::new(None::<String>);
    let send = Action::new(|_: &()| request_recovery_codes_code());
    Effect::new(move |_| {
        if let Some(answer) = send.value().get() {
            follow_send(clock, note, &answer);
        }
    });
    if sends {
        send.dispatch(());
    }
    if proof == Method::Passkey {
        focus_when_present("codes-use-passkey");
    }
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let shown = RwSignal::new(None::<RecoveryCodes>);
    let mode = RwSignal::new(CodesView::Ask);
    let view_action = Action::new(|c: &String| {
        let c = c.clone();
        async move { view_recovery_codes(c).await }
    });
    let (view_value, regen_value) = (view_action.value(), regenerate.value());
    Effect::new(move |_| {
        if let Some(Ok(c)) = view_value.get() {
            shown.set(Some(c));
            if mode.get_untracked() == CodesView::FreshCode {
                // The fresh code was for regenerating: go on with it.
                regenerate.dispatch(());
            } else {
                mode.set(CodesView::Shown);
                focus_when_present("recovery-codes-list");
            }
        }
    });
    Effect::new(move |_| match regen_value.get() {
        Some(Ok(c)) => {
            shown.set(Some(c));
            mode.set(CodesView::Shown);
            focus_when_present("recovery-codes-list");
        }
        Some(Err(ApiError::Forbidden(_))) => {
            code.set(String::new());
            last.set_value(String::new());
            mode.set(CodesView::FreshCode);
            if sends {
                send.dispatch(());
            }
            focus_when_present(if proof == Method::Passkey {
                "codes-use-passkey"
            } else {
                "field-code"
            });
        }
        _ => {}
    });
    let submit_code = Callback::new(move |_: ()| submit_once(view_action, code, last));
    // A passkey confirms it instead of a code: the browser's prompt for a ceremony bound
    // to this session, its answer checked as the "code".
    let prompt_error = RwSignal::new(None::<String>);
    let prompting = RwSignal::new(false);
    let use_passkey = move |_| {
        prove_with_passkey(prompt_error, prompting, move |json| {
            view_action.dispatch(json);
        })
    };
    let from = match proof {
        Method::Email => "the code we send to your email address",
        Method::Sms => "the code we text to your phone",
        Method::Passkey => "",
        _ => "a current code from your authenticator app",
    };
    let ask_passkey = move |intro: &'static str| {
        view! {
            <div>
                <PasskeyProofNote intro=intro error=prompt_error/>
                <FormAlert message=general_error(view_value)/>
                <div class="dialog-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="button" id="codes-use-passkey" class="btn btn-primary" on:click=use_passkey disabled=move || prompting.get() || view_action.pending().get()>"Use Passkey"</button>
                </div>
            </div>
        }
    };
    let ask_code = move |intro: String| {
        view! {
            <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_code.run(()); } novalidate>
                <p>{intro}</p>
                {sends.then(|| view! {
                    <SentNote note=note/>
                    <FormAlert message=send_error(send)/>
                })}
                <FormAlert message=general_error(view_value)/>
                <CodeInput value=code error=field_error(view_value, "code") on_complete=submit_code/>
                <div class="dialog-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    {sends.then(|| view! {
                        <ResendButton clock=clock pending=send.pending() on_request=Callback::new(move |_| { send.dispatch(()); })/>
                    })}
                    <SubmitButton label="Verify" pending=view_action.pending()/>
                </div>
            </form>
        }
    };
    view! {
        <div class="dialog-body">
            {move || match (mode.get(), shown.get()) {
                (CodesView::Ask, _) | (_, None) if proof == Method::Passkey => ask_passkey("Confirm with your passkey to see your recovery codes.").into_any(),
                (CodesView::FreshCode, _) if proof == Method::Passkey => ask_passkey("It has been a while since you confirmed it is you. Use your passkey to regenerate your recovery codes.").into_any(),
                (CodesView::Ask, _) | (_, None) => ask_code(format!("Enter {from} to see your recovery codes.")).into_any(),
                (CodesView::FreshCode, _) => ask_code(format!("It has been a while since you entered a code. Enter {from} to regenerate your recovery codes.")).into_any(),
                (CodesView::ConfirmRegenerate, Some(_)) => view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); regenerate.dispatch(()); } novalidate>
                        <p class="notice notice-warning" id="regenerate-warning" tabindex="-1">
                            "Your 10 current recovery codes stop working at once, including any you have printed or saved. You get 10 new ones to save."
                        </p>
                        <FormAlert message=general_error(regen_value)/>
                        <div class="dialog-actions">
                            <button type="button" class="btn btn-secondary" on:click=move |_| mode.set(CodesView::Shown)>"Keep Current Codes"</button>
                            <SubmitButton label="Regenerate Codes" pending=regenerate.pending() danger=true/>
                        </div>
                    </form>
                }.into_any(),
                (CodesView::Shown, Some(c)) => view! {
                    <div id="recovery-codes-list" tabindex="-1">
                        <RecoveryCodeList codes=c/>
                    </div>
                    <div class="dialog-actions">
                        <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Done"</button>
                        <button type="button" class="btn btn-danger" on:click=move |_| {
                            mode.set(CodesView::ConfirmRegenerate);
                            focus_when_present("regenerate-warning");
                        }>"Regenerate"</button>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn DisableTotp(
    open: RwSignal<bool>,
    action: Action<String, Result<(), ApiError>>,
    /// The methods that stay on once the app is off.
    remaining: Signal<Vec<Method>>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let value = action.value();
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_once(action, code, last); } novalidate>
            {move || {
                let left = remaining.get();
                let after = sign_in_after(&left);
                if left.is_empty() {
                    view! {
                        <p class="notice notice-warning">
                            {format!("This is your only multi-factor method. After disabling it, {after}, and your recovery codes stop working.")}
                        </p>
                    }.into_any()
                } else {
                    view! {
                        <p class="notice notice-info">
                            {format!("S{}. Your recovery codes keep working.", &after[1..])}
                        </p>
                    }.into_any()
                }
            }}
            <p>"Enter a current code from your authenticator app to confirm."</p>
            <FormAlert message=general_error(value)/>
            <CodeInput value=code error=field_error(value, "code")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Disable" pending=action.pending() danger=true/>
            </div>
        </form>
    }
}
