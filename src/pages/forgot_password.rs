use crate::api::password::request_password_reset;
use crate::components::{AuthCard, FormAlert, SubmitButton, TextField};
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos_meta::Title;

/// "Forgot password?": asks for the email and sends a reset link. The answer is the
/// same whether or not an account exists.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let action = Action::new(|email: &String| {
        let email = email.clone();
        async move { request_password_reset(email).await }
    });
    let value = action.value();
    let sent = move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).cloned());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(email.get_untracked());
    };
    view! {
        <Title text="Forgot password · Latchkey"/>
        <Show
            when=move || sent().is_none()
            fallback=move || view! {
                <AuthCard title="Check your email">
                    {sent().map(|s| view! {
                        <p role="status">
                            "If an account exists for " <strong>{s.email}</strong>
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
                <form on:submit=on_submit novalidate>
                    <FormAlert message=general_error(value)/>
                    <TextField label="Email" name="email" kind="email" autocomplete="username" value=email error=field_error(value, "email") autofocus=true/>
                    <SubmitButton label="Send Reset Link" pending=action.pending()/>
                </form>
            </AuthCard>
        </Show>
        <p class="auth-links">"Remembered it? " <a href="/signin">"Sign in"</a></p>
    }
}
