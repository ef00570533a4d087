use crate::api::accounts::SignIn;
use crate::api::passkeys::{passkey_sign_in, passkey_sign_in_options};
use crate::components::webauthn::{self, Abort, PromptError};
use crate::components::{AuthCard, FormAlert, PasswordField, SubmitButton, TextField};
use crate::model::account::SignedIn;
use crate::pages::{field_error, general_error, go_to};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Sign in. A real form: with script off, or pressed before the page's script runs,
/// it posts to the server function, which answers with the next page, or with this one
/// again and the error in the query (read back by the `ServerAction`).
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let next = StoredValue::new(query.with_untracked(|q| q.get("next")));
    // Sent here by the server after ending a session the IP allowlist leaves out.
    let outside_allowlist =
        query.with_untracked(|q| q.get("signed_out").as_deref() == Some("allowlist"));
    let action = ServerAction::<SignIn>::new();
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(signed_in)) = value.get() {
            go_to(&signed_in.redirect_to);
        }
    });
    // Passkeys, once the page's script runs in a browser that has them: the button, and
    // the address field's autofill offering this site's passkeys.
    let passkeys = RwSignal::new(false);
    let passkey_error = RwSignal::new(None::<String>);
    let passkey_pending = RwSignal::new(false);
    let autofill = StoredValue::new_local(None::<Abort>);
    let finish = move |outcome: Result<SignedIn, String>| match outcome {
        Ok(signed_in) => go_to(&signed_in.redirect_to),
        Err(message) if message.is_empty() => {}
        Err(message) => {
            let _ = passkey_error.try_set(Some(message));
        }
    };
    Effect::new(move |_| {
        if !webauthn::supported() {
            return;
        }
        passkeys.set(true);
        leptos::task::spawn_local(async move {
            if webauthn::autofill_available().await {
                let abort = Abort::new();
                autofill.set_value(Some(abort.clone()));
                let outcome = with_passkey(Some(abort), next.get_value()).await;
                finish(outcome);
            }
        });
    });
    let on_passkey = move |_| {
        if let Some(a) = autofill.get_value() {
            a.abort();
        }
        passkey_error.set(None);
        passkey_pending.set(true);
        leptos::task::spawn_local(async move {
            let outcome = with_passkey(None, next.get_value()).await;
            let _ = passkey_pending.try_set(false);
            finish(outcome);
        });
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(SignIn {
            email: email.get_untracked(),
            password: password.get_untracked(),
            next: next.get_value(),
        });
    };
    view! {
        <Title text="Sign in · Latchkey"/>
        <AuthCard title="Sign in">
            {outside_allowlist.then(|| view! {
                <div class="alert alert-warning" role="alert">
                    "You were signed out: your account's IP allowlist does not include the address you are using now. "
                    "Sign in from an allowed address, or reset your password by email to turn the allowlist off."
                </div>
            })}
            <form method="post" action=SignIn::url() on:submit=on_submit novalidate>
                <FormAlert message=general_error(value)/>
                {next.get_value().map(|n| view! { <input type="hidden" name="next" value=n/> })}
                <TextField label="Email" name="email" kind="email" autocomplete="username webauthn" value=email error=field_error(value, "email") autofocus=true/>
                <PasswordField label="Password" name="password" value=password error=field_error(value, "password")/>
                <SubmitButton label="Sign In" pending=action.pending()/>
            </form>
            <Show when=move || passkeys.get()>
                <div class="passkey-sign-in">
                    <p class="divider"><span>"or"</span></p>
                    <div class="alert-slot" aria-live="assertive">
                        {move || passkey_error.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                    </div>
                    <button type="button" class="btn btn-secondary btn-block" on:click=on_passkey disabled=move || passkey_pending.get() aria-describedby="passkey-hint">
                        "Sign in with a passkey"
                    </button>
                    <p class="muted" id="passkey-hint">"Use your fingerprint, face or screen lock: no password needed."</p>
                </div>
            </Show>
        </AuthCard>
        <p class="auth-links"><a href="/forgot-password">"Forgot password?"</a></p>
        <p class="auth-links">"New here? " <a href="/signup">"Create an account"</a></p>
    }
}

/// A passkey sign-in: the options (a new ceremony), the browser's prompt (or, with
/// `autofill`, the address field's offer), the answer to the server. An empty error is
/// a prompt that gave way to another.
async fn with_passkey(autofill: Option<Abort>, next: Option<String>) -> Result<SignedIn, String> {
    let options = passkey_sign_in_options().await.map_err(|e| e.to_string())?;
    let answer = webauthn::get(&options, autofill.as_ref())
        .await
        .map_err(|e| match (e, autofill.is_some()) {
            // The autofill request ends quietly (cancelled, or replaced by the button).
            (_, true) | (PromptError::Aborted, _) => String::new(),
            (e, false) => e.message(false),
        })?;
    passkey_sign_in(answer, next)
        .await
        .map_err(|e| e.to_string())
}
