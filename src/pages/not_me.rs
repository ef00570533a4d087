//! "This wasn't me", opened from a new sign-in notice: says which sign-in the mail was
//! about, and "Sign out that session" ends it (once), then leads to a new password and
//! offers to sign out every other session. Real forms: they work before the page's
//! script runs, and without it (the answers come back as `?done=`).
use crate::api::notifications::{load_not_me, NotMe, NotMeSignOutAll};
use crate::components::{AuthCard, FormAlert, SubmitButton};
use crate::pages::general_error;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn NotMePage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    let done = query.with_untracked(|q| q.get("done"));
    let signed_out =
        query.with_untracked(|q| q.get("signed_out").and_then(|n| n.parse::<u64>().ok()));
    let action = ServerAction::<NotMe>::new();
    let value = action.value();
    if let Some(reset) = done.clone() {
        value.set(Some(Ok(reset)));
    }
    let info = Resource::new(
        move || token.clone(),
        |t| async move {
            if t.is_empty() {
                None
            } else {
                Some(load_not_me(t).await)
            }
        },
    );
    let reset = move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).cloned());
    view! {
        <Title text="This wasn't me · Latchkey"/>
        <Show
            when=move || reset().is_none()
            fallback=move || view! { <SignedOut reset=reset().unwrap_or_default() ended=signed_out/> }
        >
            <AuthCard title="This wasn't me">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match info.await {
                            None => view! {
                                <div class="alert alert-error" role="alert">"This page needs the link from the email. Open the link again, and check that it was copied whole."</div>
                            }.into_any(),
                            Some(Err(e)) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                            Some(Ok(i)) if i.used => view! {
                                <p role="status">"This link was used already: that session is signed out."</p>
                                <a class="btn btn-primary" href="/forgot-password">"Reset Your Password"</a>
                            }.into_any(),
                            Some(Ok(i)) if i.expired => view! {
                                <div class="alert alert-error" role="alert">"This link has expired. If you still think someone else signed in, reset your password now."</div>
                                <a class="btn btn-primary" href="/forgot-password">"Reset Your Password"</a>
                            }.into_any(),
                            Some(Ok(i)) => view! {
                                <p>"Someone signed in to your account:"</p>
                                <dl class="facts">
                                    <div><dt>"When"</dt><dd>{i.when}</dd></div>
                                    <div><dt>"IP address"</dt><dd class="mono">{i.ip}</dd></div>
                                    <div><dt>"Place"</dt><dd>{i.place}</dd></div>
                                    <div><dt>"Browser"</dt><dd>{i.browser}</dd></div>
                                </dl>
                                <p>"If this wasn't you, sign that session out now. You will then set a new password, which signs out every other session too."</p>
                                <form method="post" action=NotMe::url() on:submit=move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    action.dispatch(NotMe { token: query.with_untracked(|q| q.get("token").unwrap_or_default()) });
                                }>
                                    <input type="hidden" name="token" value=query.with_untracked(|q| q.get("token").unwrap_or_default())/>
                                    <FormAlert message=general_error(value)/>
                                    <SubmitButton label="Sign out that session" pending=action.pending() danger=true/>
                                </form>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </AuthCard>
        </Show>
    }
}

#[component]
fn SignedOut(reset: String, ended: Option<u64>) -> impl IntoView {
    let all = ServerAction::<NotMeSignOutAll>::new();
    let value = all.value();
    if let Some(n) = ended {
        value.set(Some(Ok(n)));
    }
    let reset_link = format!("/reset-password#token={reset}");
    let for_form = reset.clone();
    view! {
        <AuthCard title="Session signed out">
            <p role="status" class="success-text">"That session is signed out, and it is in your security log."</p>
            <p>"Someone may know your password. Set a new one now: it signs out every session of your account."</p>
            <a class="btn btn-primary" href=reset_link>"Set a New Password"</a>
            {move || match value.get() {
                Some(Ok(n)) => view! {
                    <p role="status">{match n { 0 => "There were no other sessions.".to_string(), 1 => "1 other session signed out.".to_string(), n => format!("{n} other sessions signed out.") }}</p>
                }.into_any(),
                _ => {
                    let reset = for_form.clone();
                    let sent = reset.clone();
                    view! {
                        <form method="post" action=NotMeSignOutAll::url() on:submit=move |ev: leptos::ev::SubmitEvent| {
                            ev.prevent_default();
                            all.dispatch(NotMeSignOutAll { reset: sent.clone() });
                        }>
                            <input type="hidden" name="reset" value=reset/>
                            <FormAlert message=general_error(value)/>
                            <SubmitButton label="Sign out all other sessions" pending=all.pending()/>
                        </form>
                    }.into_any()
                }
            }}
        </AuthCard>
    }
}
