use crate::api::accounts::sign_in;
use crate::components::{AuthCard, FormAlert, PasswordField, SubmitButton, TextField};
use crate::pages::{field_error, general_error, go_to};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let action = Action::new(
        |(email, password, next): &(String, String, Option<String>)| {
            let (email, password, next) = (email.clone(), password.clone(), next.clone());
            async move { sign_in(email, password, next).await }
        },
    );
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(signed_in)) = value.get() {
            go_to(&signed_in.redirect_to);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let next = query.with_untracked(|q| q.get("next"));
        action.dispatch((email.get_untracked(), password.get_untracked(), next));
    };
    view! {
        <Title text="Sign in · Latchkey"/>
        <AuthCard title="Sign in">
            <form method="post" action="/api/sign_in" on:submit=on_submit novalidate>
                <FormAlert message=general_error(value)/>
                <TextField label="Email" name="email" kind="email" autocomplete="username" value=email error=field_error(value, "email") autofocus=true/>
                <PasswordField label="Password" name="password" value=password error=field_error(value, "password")/>
                <SubmitButton label="Sign In" pending=action.pending()/>
            </form>
        </AuthCard>
        <p class="auth-links"><a href="/forgot-password">"Forgot password?"</a></p>
        <p class="auth-links">"New here? " <a href="/signup">"Create an account"</a></p>
    }
}
