use crate::api::password::{check_reset_link, reset_password};
use crate::components::{
    focus_first_invalid, AuthCard, FormAlert, NewPasswordFields, SubmitButton,
};
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos_meta::Title;

/// Opened from the link in a reset email: checks the link at once, then asks for the
/// new password. It does not sign anyone in.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let (token, ready) = crate::pages::link_token();
    // Nothing is checked until the browser has read the token from the fragment.
    let link = Resource::new(
        move || (token.get(), ready.get()),
        |(token, ready)| async move {
            if ready {
                Some(check_reset_link(token).await)
            } else {
                None
            }
        },
    );
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let action = Action::new(|(t, n, r): &(String, String, String)| {
        let (t, n, r) = (t.clone(), n.clone(), r.clone());
        async move { reset_password(t, n, r).await }
    });
    let value = action.value();
    // A refused submit puts the focus on the first field in error.
    Effect::new(move |_| {
        if matches!(value.get(), Some(Err(_))) {
            focus_first_invalid("reset-form");
        }
    });
    let done = move || matches!(value.get(), Some(Ok(())));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((
            token.get_untracked(),
            new.get_untracked(),
            repeat.get_untracked(),
        ));
    };
    view! {
        <Title text="Choose a new password · Latchkey"/>
        <AuthCard title="Choose a new password">
            <Suspense fallback=|| view! { <p role="status">"Checking your link…"</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        None => view! { <p role="status">"Checking your link…"</p> }.into_any(),
                        Some(Err(e)) => view! {
                            <div class="alert alert-error" role="alert">{e.to_string()}</div>
                            <a class="btn btn-primary" href="/forgot-password">"Request a new link"</a>
                        }.into_any(),
                        Some(Ok(())) => view! {
                            <Show
                                when=move || !done()
                                fallback=|| view! {
                                    <p role="status" class="success-text">"Your password has been changed."</p>
                                    <p>"Every device that was signed in has been signed out. Sign in with your new password."</p>
                                    <a class="btn btn-primary" href="/signin">"Go to Sign In"</a>
                                }
                            >
                                <form id="reset-form" on:submit=on_submit novalidate>
                                    <FormAlert message=general_error(value)/>
                                    <NewPasswordFields
                                        label="New Password" name="new_password" value=new error=field_error(value, "new_password")
                                        repeat_label="Repeat New Password" repeat_name="new_password_repeat" repeat=repeat
                                        repeat_error=field_error(value, "new_password_repeat")
                                    />
                                    <SubmitButton label="Save" pending=action.pending()/>
                                </form>
                                {move || general_error(value).get().map(|_| view! {
                                    <p><a href="/forgot-password">"Request a new link"</a></p>
                                })}
                            </Show>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}
