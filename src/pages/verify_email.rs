use crate::api::accounts::verify_email;
use crate::components::AuthCard;
use crate::model::account::VerifyOutcome;
use leptos::prelude::*;
use leptos_meta::Title;

/// Opened from the link in the verification email. The token (in the fragment) is sent
/// by POST from the browser, so link scanners that only fetch the page do not use it up.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let (token, ready) = crate::pages::link_token();
    let action = Action::new(|token: &String| {
        let token = token.clone();
        async move { verify_email(token).await }
    });
    let value = action.value();
    Effect::new(move |sent: Option<bool>| {
        if sent == Some(true) {
            return true;
        }
        if ready.get() {
            action.dispatch(token.get_untracked());
            true
        } else {
            false
        }
    });
    view! {
        <Title text="Verify email · Latchkey"/>
        <AuthCard title="Verify email">
            {move || match value.get() {
                None => view! { <p role="status">"Checking your link…"</p> }.into_any(),
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
                Some(Err(e)) => view! {
                    <div class="alert alert-error" role="alert">{e.to_string()}</div>
                    <a class="btn btn-secondary" href="/signin">"Go to Sign In"</a>
                }
                .into_any(),
            }}
        </AuthCard>
    }
}
