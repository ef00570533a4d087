use crate::api::password::{check_reset_link, ResetPassword};
use crate::components::{
    focus_first_invalid, AuthCard, FormAlert, NewPasswordFields, PasswordField, SubmitButton,
    TextField,
};
use crate::pages::{field_error, general_error, without_script};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Opened from the link in a reset email: checks the link at once, then asks for the
/// new password. It does not sign anyone in. A browser that runs no script cannot read
/// the link's fragment: the page asks for the link to be pasted with the new password,
/// and the plain form's answer comes back as `?done`.
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
    let action = ServerAction::<ResetPassword>::new();
    let value = action.value();
    if let Some(off) = use_query_map().with_untracked(|q| {
        q.get("done")
            .is_some()
            .then(|| q.get("allowlist_off").is_some())
    }) {
        value.set(Some(Ok(off)));
    }
    // A refused submit puts the focus on the first field in error.
    Effect::new(move |_| {
        if matches!(value.get(), Some(Err(_))) {
            focus_first_invalid("reset-form");
        }
    });
    let done = move || matches!(value.get(), Some(Ok(_)));
    let allowlist_off = move || matches!(value.get(), Some(Ok(true)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ResetPassword {
            token: token.get_untracked(),
            new_password: new.get_untracked(),
            new_password_repeat: repeat.get_untracked(),
        });
    };
    let without = without_script();
    let changed = move || {
        view! {
            <p role="status" class="success-text">"Your password has been changed."</p>
            <p>"Every device that was signed in has been signed out. Sign in with your new password."</p>
            {allowlist_off().then(|| view! {
                <p class="alert alert-warning" role="note">"Your IP allowlist has been turned off, so that you can sign in from wherever you are. Turn it on again in Settings > IP allowlist."</p>
            })}
            <a class="btn btn-primary" href="/signin">"Go to Sign In"</a>
        }
    };
    view! {
        <Title text="Choose a new password · Latchkey"/>
        <AuthCard title="Choose a new password">
            <Show when=move || !done() fallback=changed>
                <Show when=move || !without.get() fallback=move || view! { <PastedLinkForm action=action/> }>
                    <Suspense fallback=|| view! { <p role="status">"Checking your link…"</p> }>
                        {move || Suspend::new(async move {
                            match link.await {
                                None => view! { <p role="status">"Checking your link…"</p> }.into_any(),
                                Some(Err(e)) => view! {
                                    <div class="alert alert-error" role="alert">{e.to_string()}</div>
                                    <a class="btn btn-primary" href="/forgot-password">"Request a new link"</a>
                                }.into_any(),
                                Some(Ok(())) => view! {
                                    <form id="reset-form" method="post" action=ResetPassword::url() on:submit=on_submit novalidate>
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
                                }.into_any(),
                            }
                        })}
                    </Suspense>
                </Show>
            </Show>
        </AuthCard>
    }
}

/// For a browser without script: the link pasted, and the new password.
#[component]
fn PastedLinkForm(action: ServerAction<ResetPassword>) -> impl IntoView {
    let value = action.value();
    let pasted = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    view! {
        <form class="without-script" method="post" action=ResetPassword::url() novalidate>
            <p>"Your browser is not running this page's script, so the page cannot read the link. Paste the whole link from the email here, with your new password:"</p>
            <FormAlert message=general_error(value)/>
            <TextField label="Link from the email" name="token" value=pasted error=field_error(value, "token") kind="url"/>
            <PasswordField label="New Password" name="new_password" value=new error=field_error(value, "new_password") autocomplete="new-password"/>
            <PasswordField label="Repeat New Password" name="new_password_repeat" value=repeat error=field_error(value, "new_password_repeat") autocomplete="new-password"/>
            <SubmitButton label="Save" pending=action.pending()/>
        </form>
    }
}
