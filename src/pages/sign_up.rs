use crate::api::accounts::SignUp;
use crate::components::{
    focus_first_invalid, AuthCard, FormAlert, NewPasswordFields, SubmitButton, TextField,
};
use crate::model::account::SignUpAccepted;
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    // A real form: with script off (or pressed before it runs) the server answers with
    // `?sent`, or with this page again and the error in the query.
    let action = ServerAction::<SignUp>::new();
    let value = action.value();
    if use_query_map().with_untracked(|q| q.get("sent").is_some()) {
        // The plain form's answer does not carry the address (nothing typed goes
        // into a URL): an empty one.
        value.set(Some(Ok(SignUpAccepted {
            email: String::new(),
        })));
    }
    // A refused submit puts the focus on the first field in error.
    Effect::new(move |_| {
        if matches!(value.get(), Some(Err(_))) {
            focus_first_invalid("sign-up-form");
        }
    });
    // The address the message went to (empty after a plain form).
    let accepted = move || {
        value.with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|a| a.email.clone())
        })
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(SignUp {
            email: email.get_untracked(),
            password: password.get_untracked(),
            password_repeat: repeat.get_untracked(),
        });
    };
    view! {
        <Title text="Create account · Latchkey"/>
        <Show
            when=move || accepted().is_none()
            fallback=move || view! {
                <AuthCard title="Check your email">
                    <p role="status">
                        {match accepted().unwrap_or_default() {
                            address if address.is_empty() => view! { "We sent a message to the address you entered. " }.into_any(),
                            address => view! {
                                "We sent a message to " <strong>{address}</strong> ". "
                            }.into_any(),
                        }}
                        "Follow the link in it to verify your address, then sign in."
                    </p>
                    <p class="muted">"The link works once and expires in 24 hours. Nothing there? Check your spam folder."</p>
                    <a class="btn btn-primary" href="/signin">"Go to Sign In"</a>
                </AuthCard>
            }
        >
            <AuthCard title="Create account">
                <form id="sign-up-form" method="post" action=SignUp::url() on:submit=on_submit novalidate>
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
