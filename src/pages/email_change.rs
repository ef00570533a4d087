//! The two pages of an email change's links: the new address's link ("Confirm New
//! Address" makes the change) and the old address's undo link ("Undo the Change" puts
//! the old address back, signs every session out and leads to a new password). Opening
//! a link changes nothing: a mail scanner that follows it does no harm. Real forms:
//! they work before the page's script runs, and without it (answers come back as
//! `?done=`).
use crate::api::profile::{
    email_change_info, undo_email_change_info, ConfirmEmailChange, UndoEmailChange,
};
use crate::components::{AuthCard, FormAlert, SubmitButton};
use crate::pages::general_error;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const NEEDS_LINK: &str =
    "This page needs the link from the email. Open the link again, and check that it was copied whole.";

#[component]
pub fn EmailChangePage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    let done = query.with_untracked(|q| q.get("done").is_some());
    let action = ServerAction::<ConfirmEmailChange>::new();
    let value = action.value();
    let info = Resource::new(
        move || token.clone(),
        |t| async move {
            if t.is_empty() {
                None
            } else {
                Some(email_change_info(t).await)
            }
        },
    );
    let changed = move || done || value.with(|v| matches!(v, Some(Ok(_))));
    view! {
        <Title text="Confirm your new email address · Latchkey"/>
        <AuthCard title="Confirm your new email address">
            <Show
                when=move || !changed()
                fallback=move || view! {
                    <p role="status" class="success-text">
                        {match value.get() {
                            Some(Ok(email)) => format!("Done: {email} is your account's email address now. Every other session was signed out."),
                            _ => "Done: the new address is your account's email address now. Every other session was signed out.".to_string(),
                        }}
                    </p>
                    <p>"Sign in with the new address from now on. Your old address got a notice with a link to undo the change."</p>
                    <a class="btn btn-primary" href="/settings/profile">"Go to Profile"</a>
                }
            >
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match info.await {
                            None => view! { <div class="alert alert-error" role="alert">{NEEDS_LINK}</div> }.into_any(),
                            Some(Err(e)) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                            Some(Ok(i)) => {
                                let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
                                let sent = token.clone();
                                view! {
                                    <dl class="facts">
                                        <div><dt>"Current address"</dt><dd class="mono">{i.old_email}</dd></div>
                                        <div><dt>"New address"</dt><dd class="mono">{i.new_email}</dd></div>
                                    </dl>
                                    <p>"Confirm to sign in, get notices and receive codes at the new address from now on. Every other session is signed out."</p>
                                    <form method="post" action=ConfirmEmailChange::url() on:submit=move |ev: leptos::ev::SubmitEvent| {
                                        ev.prevent_default();
                                        action.dispatch(ConfirmEmailChange { token: sent.clone() });
                                    }>
                                        <input type="hidden" name="token" value=token/>
                                        <FormAlert message=general_error(value)/>
                                        <SubmitButton label="Confirm New Address" pending=action.pending()/>
                                    </form>
                                }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </Show>
        </AuthCard>
    }
}

#[component]
pub fn UndoEmailChangePage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    let done = query.with_untracked(|q| q.get("done"));
    let action = ServerAction::<UndoEmailChange>::new();
    let value = action.value();
    if let Some(reset) = done {
        value.set(Some(Ok(reset)));
    }
    let info = Resource::new(
        move || token.clone(),
        |t| async move {
            if t.is_empty() {
                None
            } else {
                Some(undo_email_change_info(t).await)
            }
        },
    );
    let reset = move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).cloned());
    view! {
        <Title text="Undo the email change · Latchkey"/>
        <AuthCard title="Undo the email change">
            <Show
                when=move || reset().is_none()
                fallback=move || view! {
                    <p role="status" class="success-text">"The change is undone: your account has its old address again, and every session is signed out."</p>
                    <p>"Whoever changed it may know your password. Set a new one now."</p>
                    <a class="btn btn-primary" href=format!("/reset-password#token={}", reset().unwrap_or_default())>"Set a New Password"</a>
                }
            >
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match info.await {
                            None => view! { <div class="alert alert-error" role="alert">{NEEDS_LINK}</div> }.into_any(),
                            Some(Err(e)) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                            Some(Ok(i)) => {
                                let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
                                let sent = token.clone();
                                view! {
                                    <p>"The email address of your account was changed:"</p>
                                    <dl class="facts">
                                        <div><dt>"From"</dt><dd class="mono">{i.old_email}</dd></div>
                                        <div><dt>"To"</dt><dd class="mono">{i.new_email}</dd></div>
                                    </dl>
                                    <p>"If you did not make this change, undo it: your old address comes back, every session is signed out, the account's API tokens are revoked, and you then set a new password."</p>
                                    <form method="post" action=UndoEmailChange::url() on:submit=move |ev: leptos::ev::SubmitEvent| {
                                        ev.prevent_default();
                                        action.dispatch(UndoEmailChange { token: sent.clone() });
                                    }>
                                        <input type="hidden" name="token" value=token/>
                                        <FormAlert message=general_error(value)/>
                                        <SubmitButton label="Undo the Change" pending=action.pending() danger=true/>
                                    </form>
                                }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </Show>
        </AuthCard>
    }
}
