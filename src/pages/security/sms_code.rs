//! The SMS Code block of the "Multi-factor authentication" section (seed 002): its
//! state, the Enable dialog (identity and phone number, then the texted code) and the
//! Disable dialog (a code texted as it opens). SMS is the weakest method and never the
//! default.
use super::email_code::{follow_send, resend_action, send_error, SentNote};
use crate::api::mfa::{request_identity_code, start_sms_code};
use crate::components::{
    focus_when_present, submit_once, CodeInput, FormAlert, PasswordField, ResendButton,
    ResendClock, SubmitButton,
};
use crate::model::error::ApiError;
use crate::model::mfa::{IdentityProof, MfaStatus, RecoveryCodes, SMS_COUNTRIES};
use crate::model::time::format_date;
use crate::pages::{field_error, general_error};
use leptos::prelude::*;

/// The block's state and its Enable or Disable button.
#[component]
pub fn SmsCodeState(
    status: MfaStatus,
    on_enable: Callback<()>,
    on_disable: Callback<()>,
) -> impl IntoView {
    match (status.sms_enabled_at, status.sms_available) {
        (Some(at), _) => view! {
            <p class="section-state">
                <span class="badge badge-success">"Enabled"</span>
                {format!(" since {}", format_date(at))}
            </p>
            <p class="muted">"Codes go to " <span class="mono">{status.sms_number.clone().unwrap_or_default()}</span></p>
            <div class="method-actions">
                <button type="button" id="sms-disable" class="btn btn-danger" on:click=move |_| on_disable.run(())>"Disable"</button>
            </div>
        }
        .into_any(),
        (None, true) => view! {
            <p class="section-state"><span class="badge badge-muted">"Not enabled"</span></p>
            <div class="method-actions">
                <button type="button" id="sms-enable" class="btn btn-secondary" on:click=move |_| on_enable.run(())>"Enable"</button>
            </div>
        }
        .into_any(),
        (None, false) => view! {
            <p class="section-state"><span class="badge badge-muted">"Not offered"</span></p>
            <p class="muted">"This service does not send text messages."</p>
        }
        .into_any(),
    }
}

/// The Enable dialog's content: identity and phone number, then the texted code.
#[component]
pub fn EnableSmsCode(
    open: RwSignal<bool>,
    confirm: Action<String, Result<Option<RecoveryCodes>, ApiError>>,
    proof: IdentityProof,
    verified: bool,
    /// Turning it on brings the recovery codes (a third step).
    codes_due: bool,
    default_country: String,
    /// The countries whose numbers this server texts (setting `sms.countries`).
    countries: Vec<String>,
) -> impl IntoView {
    if !verified {
        return view! {
            <div class="dialog-body">
                <p class="notice notice-warning">
                    "Verify your email address first: follow the link in the verification email, or send a new one from the banner at the top of this page."
                </p>
                <div class="dialog-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Close"</button>
                </div>
            </div>
        }
        .into_any();
    }
    let steps = if codes_due { 3 } else { 2 };
    let step = RwSignal::new(1u8);
    let password = RwSignal::new(String::new());
    let identity_code = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let listed = SMS_COUNTRIES
        .iter()
        .any(|(id, _, _)| *id == default_country);
    let country = RwSignal::new(default_country.clone());
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let clock = ResendClock::new();
    let note = RwSignal::new(None::<String>);
    // With Email Code on, identity is an email code, sent as the dialog opens.
    let identity_clock = ResendClock::new();
    let identity_note = RwSignal::new(None::<String>);
    let identity_sent = Action::new(|_: &()| request_identity_code("sms".into()));
    Effect::new(move |_| {
        if let Some(answer) = identity_sent.value().get() {
            follow_send(identity_clock, identity_note, &answer);
        }
    });
    if proof == IdentityProof::EmailCode {
        identity_sent.dispatch(());
    }
    let start = Action::new(|(p, c, n, k): &(String, String, String, String)| {
        let (p, c, n, k) = (p.clone(), c.clone(), n.clone(), k.clone());
        async move { start_sms_code(p, c, n, k).await }
    });
    let start_value = start.value();
    Effect::new(move |_| {
        let Some(answer) = start_value.get() else {
            return;
        };
        // Only a code sent now moves on: a refusal (too soon, too many) stays on this
        // step with its countdown, as the number typed may differ from the last one.
        if answer.is_ok() {
            follow_send(clock, note, &answer);
            step.set(2);
            focus_when_present("field-code");
        }
    });
    let resend = resend_action("enable", "sms", clock, note);
    let confirm_value = confirm.value();
    let submit_code = Callback::new(move |_: ()| submit_once(confirm, code, last));
    let passkey_error = RwSignal::new(None::<String>);
    let proving = RwSignal::new(false);
    let submit_first = move || {
        if proof == IdentityProof::Passkey {
            super::passkeys::prove_with_passkey(passkey_error, proving, move |json| {
                start.dispatch((
                    String::new(),
                    json,
                    phone.get_untracked(),
                    country.get_untracked(),
                ));
            });
            return;
        }
        start.dispatch((
            password.get_untracked(),
            identity_code.get_untracked(),
            phone.get_untracked(),
            country.get_untracked(),
        ));
    };
    let first_step_error = general_error(start_value);
    view! {
        <div class="dialog-body">
            <h3 class="step-count" id="enable-sms-step" tabindex="-1" aria-live="polite">
                {move || if step.get() == 1 { format!("Step 1 of {steps}: Confirm it is you and enter your number") } else { format!("Step 2 of {steps}: Enter the code from the text message") }}
            </h3>
            {move || if step.get() == 1 {
                view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_first(); } novalidate>
                        <p class="notice notice-warning">
                            "Text messages are the weakest way to get codes: a number can be taken over. Prefer the authenticator app when you can."
                        </p>
                        <FormAlert message=first_step_error/>
                        {match proof {
                            IdentityProof::AuthenticatorCode => view! {
                                <p>"Enter a current code from your authenticator app."</p>
                                <CodeInput value=identity_code error=field_error(start_value, "code")/>
                            }.into_any(),
                            IdentityProof::EmailCode => view! {
                                <p>"Enter the 6-digit code we send to your email address."</p>
                                <SentNote note=identity_note/>
                                <FormAlert message=send_error(identity_sent)/>
                                <CodeInput value=identity_code error=field_error(start_value, "code")/>
                                <div class="resend-row">
                                    <ResendButton clock=identity_clock pending=identity_sent.pending() on_request=Callback::new(move |_| { identity_sent.dispatch(()); })/>
                                </div>
                            }.into_any(),
                            IdentityProof::Passkey => view! {
                                <super::passkeys::PasskeyProofNote intro="Enter your number, then choose Send Code and confirm it is you with your passkey." error=passkey_error/>
                            }.into_any(),
                            IdentityProof::Password => view! {
                                <PasswordField label="Password" name="password" value=password error=field_error(start_value, "password")/>
                            }.into_any(),
                        }}
                        <div class="field">
                            <label for="field-country">"Country"</label>
                            <select
                                id="field-country"
                                name="country"
                                prop:value=move || country.get()
                                on:change=move |ev| country.set(event_target_value(&ev))
                                aria-describedby="field-phone-hint"
                            >
                                {(!listed).then(|| {
                                    let id = default_country.clone();
                                    view! { <option value=id.clone()>{id.clone()}</option> }
                                })}
                                {SMS_COUNTRIES.iter().filter(|(id, _, _)| countries.iter().any(|c| c == id)).map(|(id, name, dial)| view! {
                                    <option value=*id selected=move || country.get() == *id>{format!("{name} ({dial})")}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="field-phone">"Phone number"</label>
                            <input
                                id="field-phone"
                                name="phone"
                                type="tel"
                                autocomplete="tel"
                                inputmode="tel"
                                prop:value=move || phone.get()
                                on:input=move |ev| phone.set(event_target_value(&ev))
                                aria-invalid=move || if field_error(start_value, "phone").get().is_some() { "true" } else { "false" }
                                aria-describedby="field-phone-hint field-phone-error"
                            />
                            <p class="muted field-hint" id="field-phone-hint">"A mobile number. Start it with + and the country code to use another country."</p>
                            <p class="field-error" id="field-phone-error">{move || field_error(start_value, "phone").get()}</p>
                        </div>
                        <div class="dialog-actions">
                            <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                            <SubmitButton label="Send Code" pending=Signal::derive(move || start.pending().get() || proving.get())/>
                        </div>
                    </form>
                }.into_any()
            } else {
                view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_code.run(()); } novalidate>
                        <SentNote note=note/>
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
