use crate::api::mfa::verify_sign_in;
use crate::components::{
    focus_when_present, AuthCard, CodeInput, FormAlert, SubmitButton, TextField,
};
use crate::model::error::ApiError;
use crate::pages::{field_error, general_error, go_to};
use leptos::prelude::*;
use leptos_meta::Title;

/// The second step of sign-in: a code from the authenticator app, or a recovery code.
#[component]
pub fn SignInVerifyPage() -> impl IntoView {
    let use_recovery = RwSignal::new(false);
    let code = RwSignal::new(String::new());
    let recovery = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    let action = Action::new(move |(c, r): &(String, String)| {
        let (c, r) = (c.clone(), r.clone());
        async move { verify_sign_in(c, r).await }
    });
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(done)) = value.get() {
            go_to(&done.redirect_to);
        }
    });
    let expired = move || matches!(value.get(), Some(Err(ApiError::Unauthorized(_))));
    let submit = move || {
        if use_recovery.get_untracked() {
            action.dispatch((String::new(), recovery.get_untracked()));
        } else {
            let current = code.get_untracked();
            if action.pending().get_untracked()
                || last.get_value() == current && matches!(value.get_untracked(), Some(Ok(_)))
            {
                return;
            }
            last.set_value(current.clone());
            action.dispatch((current, String::new()));
        }
    };
    let on_complete = Callback::new(move |_: ()| submit());
    // Arriving from the password step, the code field has the focus.
    Effect::new(move |_| focus_when_present("field-code"));
    view! {
        <Title text="Two-step sign-in · Latchkey"/>
        <AuthCard title="Two-step sign-in">
            <Show
                when=move || !expired()
                fallback=|| view! {
                    <div class="alert alert-error" role="alert">"This sign-in has expired. Enter your email and password again."</div>
                    <a class="btn btn-primary" href="/signin">"Back to Sign In"</a>
                }
            >
                <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit(); } novalidate>
                    <FormAlert message=general_error(value)/>
                    <Show
                        when=move || use_recovery.get()
                        fallback=move || view! {
                            <p>"Enter the 6-digit code from your authenticator app"</p>
                            <CodeInput value=code error=field_error(value, "code") on_complete=on_complete/>
                        }
                    >
                        <p>"Enter one of the recovery codes you saved when you set up your authenticator app."</p>
                        <TextField label="Recovery code" name="recovery_code" value=recovery error=field_error(value, "recovery_code") autocomplete="off" autofocus=true/>
                    </Show>
                    <SubmitButton label="Verify" pending=action.pending()/>
                </form>
                <p class="auth-alt">
                    <button type="button" class="link-button" on:click=move |_| {
                        use_recovery.update(|r| *r = !*r);
                        focus_when_present(if use_recovery.get_untracked() { "field-recovery_code" } else { "field-code" });
                    }>
                        {move || if use_recovery.get() { "Use your authenticator app instead" } else { "Use a recovery code" }}
                    </button>
                </p>
                <p class="auth-alt"><a href="/signin">"Back to Sign In"</a></p>
            </Show>
        </AuthCard>
    }
}
