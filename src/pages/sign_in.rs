use crate::api::accounts::SignIn;
use crate::components::{AuthCard, FormAlert, PasswordField, SubmitButton, TextField};
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
                <TextField label="Email" name="email" kind="email" autocomplete="username" value=email error=field_error(value, "email") autofocus=true/>
                <PasswordField label="Password" name="password" value=password error=field_error(value, "password")/>
                <SubmitButton label="Sign In" pending=action.pending()/>
            </form>
        </AuthCard>
        <p class="auth-links"><a href="/forgot-password">"Forgot password?"</a></p>
        <p class="auth-links">"New here? " <a href="/signup">"Create an account"</a></p>
    }
}
