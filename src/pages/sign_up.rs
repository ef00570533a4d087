use crate::api::accounts::sign_up;
use crate::components::{
    focus_first_invalid, AuthCard, FormAlert, NewPasswordFields, SubmitButton, TextField,
};
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let action = Action::new(|(email, password, repeat): &(String, String, String)| {
        let (email, password, repeat) = (email.clone(), password.clone(), repeat.clone());
        async move { sign_up(email, password, repeat).await }
    });
    let value = action.value();
    // A refused submit puts the focus on the first field in error.
    Effect::new(move |_| {
        if matches!(value.get(), Some(Err(_))) {
            focus_first_invalid("sign-up-form");
        }
    });
    let accepted = move || {
        value.with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|a| a.email.clone())
        })
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((
            email.get_untracked(),
            password.get_untracked(),
            repeat.get_untracked(),
        ));
    };
    view! {
        <Title text="Create account · Latchkey"/>
        <Show
            when=move || accepted().is_none()
            fallback=move || view! {
                <AuthCard title="Check your email">
                    <p role="status">
                        "We sent a message to " <strong>{accepted()}</strong>
                        ". Follow the link in it to verify your address, then sign in."
                    </p>
                    <p class="muted">"The link works once and expires in 24 hours. Nothing there? Check your spam folder."</p>
                    <a class="btn btn-primary" href="/signin">"Go to Sign In"</a>
                </AuthCard>
            }
        >
            <AuthCard title="Create account">
                <form id="sign-up-form" method="post" action="/api/sign_up" on:submit=on_submit novalidate>
                    <FormAlert message=general_error(value)/>
                    <TextField label="Email" name="email" kind="email" autocomplete="email" value=email error=field_error(value, "email") autofocus=true/>
                    <NewPasswordFields
                        label="Password" name="password" value=password error=field_error(value, "password")
                        repeat_label="Repeat Password" repeat_name="password_repeat" repeat=repeat
                        repeat_error=field_error(value, "password_repeat")
                    />
                    <SubmitButton label="Create Account" pending=action.pending()/>
                </form>
            </AuthCard>
        </Show>
        <p class="auth-links">"Already have an account? " <a href="/signin">"Sign in"</a></p>
    }
}
