//! The Email Code block of the "Multi-factor authentication" section (seed 003): its
//! state, the Enable dialog (identity, then the emailed code) and the Disable dialog
//! (a code sent as it opens).
use crate::api::accounts::resend_verification;
use crate::api::mfa::{request_code, start_email_code};
use crate::components::{
    focus_when_present, submit_once, CodeInput, FormAlert, PasswordField, ResendButton,
    ResendClock, SubmitButton,
};
use crate::model::error::ApiError;
use crate::model::mfa::{
    CodeSent, IdentityProof, MfaStatus, RecoveryCodes, EMAIL_CODE_AFTER_RESET, SENT_A_MOMENT_AGO,
};
use crate::model::time::format_date;
use crate::pages::{field_error, general_error};
use leptos::prelude::*;

/// The block's state and its Enable or Disable button.
#[component]
pub fn EmailCodeState(
    status: MfaStatus,
    on_enable: Callback<()>,
    on_disable: Callback<()>,
) -> impl IntoView {
    match status.email_code_enabled_at {
        Some(at) => view! {
            <p class="section-state">
                <span class="badge badge-success">"Enabled"</span>
                {format!(" since {}", format_date(at))}
            </p>
            <p class="muted">"Codes go to " <span class="mono">{status.email.clone()}</span></p>
            {(status.active().len() > 1).then(|| view! { <p class="muted">{EMAIL_CODE_AFTER_RESET}</p> })}
            <div class="method-actions">
                <button type="button" id="email-disable" class="btn btn-danger" on:click=move |_| on_disable.run(())>"Disable"</button>
            </div>
        }
        .into_any(),
        None => view! {
            <p class="section-state"><span class="badge badge-muted">"Not enabled"</span></p>
            <div class="method-actions">
                <button type="button" id="email-enable" class="btn btn-secondary" on:click=move |_| on_enable.run(())>"Enable"</button>
            </div>
        }
        .into_any(),
    }
}

/// Where the code went and how long it lasts, announced when it changes.
#[component]
pub fn SentNote(note: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <p role="status" id="code-sent-note">{move || note.get()}</p>
    }
}

/// Follows a send's answer: the countdown, and what the note says.
pub fn follow_send(
    clock: ResendClock,
    note: RwSignal<Option<String>>,
    answer: &Result<CodeSent, ApiError>,
) {
    clock.follow(answer);
    match answer {
        Ok(sent) => note.set(Some(sent.note())),
        // Sent a moment ago (the dialog was opened again): that code still works.
        Err(ApiError::TooManyRequests { .. }) if note.get_untracked().is_none() => {
            note.set(Some(SENT_A_MOMENT_AGO.into()))
        }
        Err(_) => {}
    }
}

/// Asks for another code of `purpose` and restarts the countdown; a refused early
/// resend only corrects the count.
pub fn resend_action(
    purpose: &'static str,
    channel: &'static str,
    clock: ResendClock,
    note: RwSignal<Option<String>>,
) -> Action<(), Result<CodeSent, ApiError>> {
    let action = Action::new(move |_: &()| request_code(purpose.into(), channel.into()));
    Effect::new(move |_| {
        if let Some(answer) = action.value().get() {
            follow_send(clock, note, &answer);
        }
    });
    action
}

/// An error of a send that is not the countdown's business.
pub fn send_error(
    action: Action<(), Result<CodeSent, ApiError>>,
) -> Signal<Option<crate::components::Alert>> {
    let value = action.value();
    Signal::derive(move || {
        value.with(|v| match v {
            Some(Err(ApiError::TooManyRequests { .. })) | Some(Ok(_)) | None => None,
            Some(Err(e)) => e.general().map(|text| crate::components::Alert {
                text,
                retry_after: None,
            }),
        })
    })
}

/// The Enable dialog's content: the identity check (password, or an authenticator code
/// when the app is on), then the code from the email.
#[component]
pub fn EnableEmailCode(
    open: RwSignal<bool>,
    confirm: Action<String, Result<Option<RecoveryCodes>, ApiError>>,
    proof: IdentityProof,
    verified: bool,
    /// Turning it on brings the recovery codes (a third step).
    codes_due: bool,
) -> impl IntoView {
    if !verified {
        return view! { <UnverifiedAddress open=open/> }.into_any();
    }
    let steps = if codes_due { 3 } else { 2 };
    let step = RwSignal::new(1u8);
    let password = RwSignal::new(String::new());
    let identity_code = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let clock = ResendClock::new();
    let sent_to = RwSignal::new(None::<String>);
    let start = Action::new(|(p, c): &(String, String)| {
        let (p, c) = (p.clone(), c.clone());
        async move { start_email_code(p, c).await }
    });
    let start_value = start.value();
    Effect::new(move |_| {
        let Some(answer) = start_value.get() else {
            return;
        };
        // A code went out, or one did moments ago (the dialog was opened again): on to
        // the code.
        if matches!(answer, Ok(_) | Err(ApiError::TooManyRequests { .. })) {
            follow_send(clock, sent_to, &answer);
            step.set(2);
            focus_when_present("field-code");
        }
    });
    let resend = resend_action("enable", "email", clock, sent_to);
    let confirm_value = confirm.value();
    let submit_code = Callback::new(move |_: ()| submit_once(confirm, code, last));
    let passkey_error = RwSignal::new(None::<String>);
    let proving = RwSignal::new(false);
    let submit_identity = move || {
        if proof == IdentityProof::Passkey {
            super::passkeys::prove_with_passkey(passkey_error, proving, move |json| {
                start.dispatch((String::new(), json));
            });
            return;
        }
        start.dispatch((password.get_untracked(), identity_code.get_untracked()));
    };
    let on_identity_code = Callback::new(move |_: ()| submit_identity());
    view! {
        <div class="dialog-body">
            <h3 class="step-count" id="enable-email-step" tabindex="-1" aria-live="polite">
                {move || if step.get() == 1 { format!("Step 1 of {steps}: Confirm it is you") } else { format!("Step 2 of {steps}: Enter the code from the email") }}
            </h3>
            {move || if step.get() == 1 {
                view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_identity(); } novalidate>
                        <FormAlert message=general_error(start_value)/>
                        {match proof {
                            IdentityProof::Passkey => view! {
                                <super::passkeys::PasskeyProofNote intro="Choose Continue and confirm it is you with your passkey. Then we send a code to your email address." error=passkey_error/>
                            }.into_any(),
                            IdentityProof::AuthenticatorCode => view! {
                                <p>"Enter a current code from your authenticator app. Then we send a code to your email address."</p>
                                <CodeInput value=identity_code error=field_error(start_value, "code") on_complete=on_identity_code/>
                            }.into_any(),
                            _ => view! {
                                <p>"Enter your password. Then we send a code to your email address."</p>
                                <PasswordField label="Password" name="password" value=password error=field_error(start_value, "password")/>
                            }.into_any(),
                        }}
                        <div class="dialog-actions">
                            <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                            <SubmitButton label="Continue" pending=Signal::derive(move || start.pending().get() || proving.get())/>
                        </div>
                    </form>
                }.into_any()
            } else {
                view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_code.run(()); } novalidate>
                        <SentNote note=sent_to/>
                        <p class="muted">"If it does not arrive within a minute or two, check your spam folder, then choose Request Code."</p>
                        <FormAlert message=general_error(confirm_value)/>
                        <FormAlert message=send_error(resend)/>
                        <CodeInput value=code error=field_error(confirm_value, "code") on_complete=submit_code/>
                        <div class="dialog-actions">
                            <ResendButton clock=clock pending=resend.pending() on_request=Callback::new(move |_| { resend.dispatch(()); })/>
                            <SubmitButton label="Verify" pending=confirm.pending()/>
                        </div>
                    </form>
                }.into_any()
            }}
        </div>
    }
    .into_any()
}

/// An address that is not verified cannot receive codes yet: the dialog says so and
/// offers the verification email again.
#[component]
fn UnverifiedAddress(open: RwSignal<bool>) -> impl IntoView {
    let action = Action::new(|_: &()| resend_verification());
    let value = action.value();
    view! {
        <div class="dialog-body">
            <p class="notice notice-warning" id="email-code-unverified">
                "Your email address is not verified yet, so it cannot receive sign-in codes. Follow the link in the verification email first."
            </p>
            <p role="status">
                {move || match value.get() {
                    Some(Ok(())) => Some("We sent a new verification email. Check your inbox.".to_string()),
                    Some(Err(e)) => Some(e.to_string()),
                    None => None,
                }}
            </p>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Close"</button>
                <button type="button" class="btn btn-primary" disabled=move || action.pending().get() on:click=move |_| { action.dispatch(()); }>
                    "Resend Verification Email"
                </button>
            </div>
        </div>
    }
}

/// The Disable dialog's content for a code method ("email" or "sms"): a code is sent
/// as it opens (seed 003).
#[component]
pub fn DisableCodeMethod(
    channel: &'static str,
    open: RwSignal<bool>,
    action: Action<String, Result<(), ApiError>>,
    last: bool,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let last_code = StoredValue::new(String::new());
    let clock = ResendClock::new();
    let sent_to = RwSignal::new(None::<String>);
    let resend = resend_action("disable", channel, clock, sent_to);
    // The first code goes out as the dialog opens.
    resend.dispatch(());
    let value = action.value();
    let submit = Callback::new(move |_: ()| submit_once(action, code, last_code));
    let ask = if channel == "sms" {
        "To confirm, enter the code we text to your phone."
    } else {
        "To confirm, enter the code we send to your email address."
    };
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit.run(()); } novalidate>
            {last.then(|| view! {
                <p class="notice notice-warning">
                    "This is your only multi-factor method. After disabling it, signing in needs only your password, and your recovery codes stop working."
                </p>
            })}
            <p>{ask}</p>
            <SentNote note=sent_to/>
            <FormAlert message=general_error(value)/>
            <FormAlert message=send_error(resend)/>
            <CodeInput value=code error=field_error(value, "code")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <ResendButton clock=clock pending=resend.pending() on_request=Callback::new(move |_| { resend.dispatch(()); })/>
                <SubmitButton label="Disable" pending=action.pending() danger=true/>
            </div>
        </form>
    }
}
