use crate::api::password::RequestPasswordReset;
use crate::components::{AuthCard, FormAlert, SubmitButton, TextField};
use crate::model::account::ResetRequested;
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// "Forgot password?": asks for the email and sends a reset link. The answer is the
/// same whether or not an account exists.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    // A real form: with script off (or pressed before it runs) the server answers with
    // `?sent=<minutes>` (never the address), or with this page and the error.
    let action = ServerAction::<RequestPasswordReset>::new();
    let value = action.value();
    if let Some(valid_minutes) =
        use_query_map().with_untracked(|q| q.get("sent").and_then(|m| m.parse::<i64>().ok()))
    {
        // The plain form's answer does not carry the address: an empty one.
        value.set(Some(Ok(ResetRequested {
            email: String::new(),
            valid_minutes,
        })));
    }
    let sent = move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).cloned());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(RequestPasswordReset {
            email: email.get_untracked(),
        });
    };
    view! {
        <Title text="Forgot password · Latchkey"/>
        <Show
            when=move || sent().is_none()
            fallback=move || view! {
                <AuthCard title="Check your email">
                    {sent().map(|s| view! {
                        <p role="status">
                            {if s.email.is_empty() {
                                view! { "If an account exists for the address you entered" }.into_any()
                            } else {
                                view! { "If an account exists for " <strong>{s.email}</strong> }.into_any()
                            }}
                            ", we sent it a link to choose a new password. The link works once and expires in "
                            {s.valid_minutes} " minutes."
                        </p>
                    })}
                    <p class="muted">"Nothing there? Check your spam folder, or try again in a few minutes."</p>
                    <a class="btn btn-primary" href="/signin">"Back to Sign In"</a>
                </AuthCard>
            }
        >
            <AuthCard title="Forgot password">
                <p class="muted">"Enter the email address of your account and we will send you a link to choose a new password."</p>
                <form method="post" action=RequestPasswordReset::url() on:submit=on_submit novalidate>
                    <FormAlert message=general_error(value)/>
                    <TextField label="Email" name="email" kind="email" autocomplete="username" value=email error=field_error(value, "email") autofocus=true/>
                    <SubmitButton label="Send Reset Link" pending=action.pending()/>
                </form>
            </AuthCard>
        </Show>
        <p class="auth-links">"Remembered it? " <a href="/signin">"Sign in"</a></p>
    }
}
