use crate::api::accounts::VerifyEmail;
use crate::components::{AuthCard, FormAlert, SubmitButton, TextField};
use crate::model::account::VerifyOutcome;
use crate::pages::{field_error, general_error, without_script};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Opened from the link in the verification email. The token (in the fragment) is sent
/// by POST from the browser, so link scanners that only fetch the page do not use it up.
/// A browser that runs no script cannot read the fragment: the page asks for the link
/// to be pasted, and the plain form's answer comes back as `?verified` or `?already`.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let (token, ready) = crate::pages::link_token();
    let action = ServerAction::<VerifyEmail>::new();
    let answered = use_query_map().with_untracked(|q| {
        if q.get("verified").is_some() {
            Some(VerifyOutcome::Verified)
        } else if q.get("already").is_some() {
            Some(VerifyOutcome::AlreadyVerified)
        } else {
            None
        }
    });
    let value = action.value();
    if let Some(outcome) = answered {
        value.set(Some(Ok(outcome)));
    }
    Effect::new(move |sent: Option<bool>| {
        // Sent once; nothing to send when the page opened with its answer.
        if sent == Some(true) || value.with_untracked(Option::is_some) {
            return true;
        }
        if ready.get() && !token.get_untracked().is_empty() {
            action.dispatch(VerifyEmail {
                token: token.get_untracked(),
            });
            true
        } else {
            false
        }
    });
    let without = without_script();
    let pasted = RwSignal::new(String::new());
    view! {
        <Title text="Verify email · Latchkey"/>
        <AuthCard title="Verify email">
            {move || match value.get() {
                None if !without.get() => view! { <p role="status">"Checking your link…"</p> }.into_any(),
                Some(Ok(outcome)) => {
                    let text = match outcome {
                        VerifyOutcome::Verified => "Your email address is verified. Thank you!",
                        VerifyOutcome::AlreadyVerified => "Your email address was already verified.",
                    };
                    view! {
                        <p role="status" class="success-text">{text}</p>
                        <a class="btn btn-primary" href="/settings/security">"Continue"</a>
                    }
                    .into_any()
                }
                Some(Err(e)) if !without.get() => view! {
                    <div class="alert alert-error" role="alert">{e.to_string()}</div>
                    <a class="btn btn-secondary" href="/signin">"Go to Sign In"</a>
                }
                .into_any(),
                // Without script the form below says what went wrong.
                None | Some(Err(_)) => ().into_any(),
            }}
            {move || (without.get() && !matches!(value.get(), Some(Ok(_)))).then(|| view! {
                <form class="without-script" method="post" action=VerifyEmail::url() novalidate>
                    <p>"Your browser is not running this page's script, so the page cannot read the link. Paste the whole link from the email here:"</p>
                    <FormAlert message=general_error(value)/>
                    <TextField label="Link from the email" name="token" value=pasted error=field_error(value, "token") kind="url"/>
                    <SubmitButton label="Verify Email" pending=action.pending()/>
                </form>
            })}
        </AuthCard>
    }
}
