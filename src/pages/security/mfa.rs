//! The "Multi-factor authentication" section: the Authenticator App Code block with its
//! Enable (four steps), View Recovery Codes and Disable dialogs.
use crate::api::mfa::{
    confirm_totp, disable_totp, get_mfa_status, regenerate_recovery_codes, start_totp,
    view_recovery_codes,
};
use crate::components::{
    submit_once, CodeInput, Dialog, FormAlert, PasswordField, RecoveryCodeList, SubmitButton, Toast,
};
use crate::model::mfa::{RecoveryCodes, TotpSetup};
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
    let refresh = Callback::new(move |message: String| {
        status.refetch();
        toast.set(Some(message));
    });
    view! {
        <section class="card section" aria-labelledby="mfa-title">
            <div class="section-text">
                <h2 id="mfa-title">"Multi-factor authentication"</h2>
                <p class="muted">"At sign-in you enter your password and a one-time code. This keeps your account safe even if your password leaks."</p>
                <div class="method" role="group" aria-labelledby="totp-title">
                    <h3 id="totp-title">"Authenticator App Code"</h3>
                    <p class="muted">"Six-digit codes from an app such as Google Authenticator, Authy, 1Password or Bitwarden."</p>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            status.await.ok().map(|s| match s.totp_enabled_at {
                                Some(at) => view! {
                                    <p class="section-state">
                                        <span class="badge badge-success">"Enabled"</span>
                                        {format!(" since {}", format_date(at))}
                                        {format!(" · {} recovery code{} left", s.recovery_codes_left, if s.recovery_codes_left == 1 { "" } else { "s" })}
                                    </p>
                                    <div class="method-actions">
                                        <button type="button" class="btn btn-secondary" on:click=move |_| view_open.set(true)>"View Recovery Codes"</button>
                                        <button type="button" class="btn btn-danger" on:click=move |_| disable_open.set(true)>"Disable"</button>
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
                                    <div class="method-actions">
                                        <button type="button" class="btn btn-secondary" on:click=move |_| enable_open.set(true)>"Enable"</button>
                                    </div>
                                }.into_any(),
                            })
                        })}
                    </Suspense>
                </div>
            </div>
        </section>
        <Dialog open=enable_open title="Enable Authenticator App" id="enable-totp">
            <EnableTotp open=enable_open on_enabled=refresh/>
        </Dialog>
        <Dialog open=view_open title="Recovery Codes" id="recovery-codes">
            <ViewCodes on_changed=refresh/>
        </Dialog>
        <Dialog open=disable_open title="Disable Authenticator App" id="disable-totp">
            <DisableTotp open=disable_open on_disabled=refresh/>
        </Dialog>
        <Toast message=toast/>
    }
}

#[component]
fn EnableTotp(open: RwSignal<bool>, on_enabled: Callback<String>) -> impl IntoView {
    let step = RwSignal::new(1u8);
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let saved = RwSignal::new(false);
    let setup = RwSignal::new(None::<TotpSetup>);
    let codes = RwSignal::new(None::<RecoveryCodes>);
    let start = Action::new(|p: &String| {
        let p = p.clone();
        async move { start_totp(p).await }
    });
    let confirm = Action::new(|c: &String| {
        let c = c.clone();
        async move { confirm_totp(c).await }
    });
    let (start_value, confirm_value) = (start.value(), confirm.value());
    Effect::new(move |_| {
        if let Some(Ok(s)) = start_value.get() {
            setup.set(Some(s));
            step.set(2);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(c)) = confirm_value.get() {
            codes.set(Some(c));
            step.set(4);
            on_enabled.run("Authenticator app enabled.".into());
        }
    });
    let submit_code = Callback::new(move |_: ()| submit_once(confirm, code, last));
    view! {
        <div class="dialog-body">
            <p class="step-count">{move || format!("Step {} of 4", step.get())}</p>
            {move || match step.get() {
                1 => view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); start.dispatch(password.get_untracked()); } novalidate>
                        <p>"First, confirm it is you."</p>
                        <FormAlert message=general_error(start_value)/>
                        <PasswordField label="Password" name="password" value=password error=field_error(start_value, "password")/>
                        <div class="dialog-actions"><SubmitButton label="Continue" pending=start.pending()/></div>
                    </form>
                }.into_any(),
                2 => {
                    let s = setup.get_untracked().unwrap_or(TotpSetup { qr_svg: String::new(), secret: String::new() });
                    view! {
                        <p>"Scan this QR code with your authenticator app."</p>
                        <div class="qr" role="img" aria-label="QR code" inner_html=s.qr_svg></div>
                        <p class="muted">"Cannot scan? Add the account by hand with this key:"</p>
                        <p class="secret mono" aria-label="Secret key">{s.secret.clone()}</p>
                        <CopyButton text=s.secret.replace(' ', "")/>
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
                        <div class="dialog-actions"><SubmitButton label="Verify" pending=confirm.pending()/></div>
                    </form>
                }.into_any(),
                _ => view! {
                    <p class="notice notice-warning">
                        "Save these recovery codes now. Each one signs you in once if you lose your authenticator app. They are not shown again without a fresh code."
                    </p>
                    {codes.get_untracked().map(|c| view! { <RecoveryCodeList codes=c/> })}
                    <label class="checkbox">
                        <input type="checkbox" prop:checked=move || saved.get() on:change=move |ev| saved.set(event_target_checked(&ev))/>
                        " I have saved these codes"
                    </label>
                    <div class="dialog-actions">
                        <button type="button" class="btn btn-primary" disabled=move || !saved.get() on:click=move |_| open.set(false)>"Done"</button>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn CopyButton(text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button type="button" class="btn btn-secondary btn-small" on:click=move |_| {
            #[cfg(feature = "hydrate")]
            if let Some(w) = leptos::web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&text);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &text;
            copied.set(true);
        }>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

#[component]
fn ViewCodes(on_changed: Callback<String>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let shown = RwSignal::new(None::<RecoveryCodes>);
    let view_action = Action::new(|c: &String| {
        let c = c.clone();
        async move { view_recovery_codes(c).await }
    });
    let regenerate = Action::new(|_: &()| regenerate_recovery_codes());
    let (view_value, regen_value) = (view_action.value(), regenerate.value());
    Effect::new(move |_| {
        if let Some(Ok(c)) = view_value.get() {
            shown.set(Some(c));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(c)) = regen_value.get() {
            shown.set(Some(c));
            on_changed.run("New recovery codes generated. The old ones no longer work.".into());
        }
    });
    let submit_code = Callback::new(move |_: ()| submit_once(view_action, code, last));
    view! {
        <div class="dialog-body">
            {move || match shown.get() {
                None => view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_code.run(()); } novalidate>
                        <p>"Enter a current code from your authenticator app to see your recovery codes."</p>
                        <FormAlert message=general_error(view_value)/>
                        <CodeInput value=code error=field_error(view_value, "code") on_complete=submit_code/>
                        <div class="dialog-actions"><SubmitButton label="Verify" pending=view_action.pending()/></div>
                    </form>
                }.into_any(),
                Some(c) => view! {
                    <RecoveryCodeList codes=c/>
                    <FormAlert message=general_error(regen_value)/>
                    <div class="dialog-actions">
                        <button type="button" class="btn btn-danger" disabled=move || regenerate.pending().get() on:click=move |_| { regenerate.dispatch(()); }>
                            "Regenerate"
                        </button>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn DisableTotp(open: RwSignal<bool>, on_disabled: Callback<String>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let action = Action::new(|c: &String| {
        let c = c.clone();
        async move { disable_totp(c).await }
    });
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            open.set(false);
            on_disabled.run("Authenticator app disabled.".into());
        }
    });
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit_once(action, code, last); } novalidate>
            <p class="notice notice-warning">
                "This is your only multi-factor method. After disabling it, signing in needs only your password, and your recovery codes stop working."
            </p>
            <p>"Enter a current code from your authenticator app to confirm."</p>
            <FormAlert message=general_error(value)/>
            <CodeInput value=code error=field_error(value, "code")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="submit" class="btn btn-danger" disabled=move || action.pending().get()>"Disable"</button>
            </div>
        </form>
    }
}
