//! Settings > Profile (seeds 000/001, "Profile Settings: Update your personal
//! information"): the display name, and the email address with "Change Email" (a link
//! to the new address makes the change; meanwhile it is shown as pending).
use crate::api::profile::{
    cancel_email_change, get_profile, request_email_change, resend_email_change, save_display_name,
};
use crate::app::MeResource;
use crate::components::{focus_when_present, Dialog, FormAlert, SubmitButton, TextField, Toast};
use crate::model::error::ApiError;
use crate::model::profile::{PendingEmail, Profile, DISPLAY_NAME_MAX};
use crate::pages::proof::{proof, proof_asked, ProofField};
use crate::pages::{field_error, general_error, UntilHydrated};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let profile = Resource::new(|| (), |_| get_profile());
    let toast = RwSignal::new(None::<String>);
    let change_open = RwSignal::new(false);
    let me = use_context::<MeResource>().map(|m| m.0);
    let on_sent = Callback::new(move |pending: PendingEmail| {
        change_open.set(false);
        profile.refetch();
        toast.set(Some(format!(
            "We sent a verification link to {}. Your address changes once you open it.",
            pending.new_email
        )));
        focus_when_present("email-resend");
    });
    view! {
        <Title text="Profile · Latchkey"/>
        <h1>"Profile"</h1>
        <p class="lead">"Your name and the email address you sign in with."</p>
        <UntilHydrated>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{format!("Your profile could not be loaded: {e}")}</div>
                            <button type="button" class="btn btn-secondary" on:click=move |_| profile.refetch()>"Try Again"</button>
                        }.into_any(),
                        Ok(p) => view! {
                            <NameSection name=p.display_name.clone() toast=toast me=me/>
                            <EmailSection profile=p toast=toast on_change=Callback::new(move |_| change_open.set(true)) reload=Callback::new(move |_| profile.refetch())/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </UntilHydrated>
        <Dialog open=change_open title="Change Email" id="change-email" toast=toast>
            {move || view! { <ChangeEmail open=change_open on_sent=on_sent/> }}
        </Dialog>
        <Toast message=toast/>
    }
}

#[component]
fn NameSection(
    name: Option<String>,
    toast: RwSignal<Option<String>>,
    me: Option<Resource<Result<Option<crate::model::account::Me>, ApiError>>>,
) -> impl IntoView {
    let value = RwSignal::new(name.unwrap_or_default());
    let save = Action::new(|n: &String| save_display_name(n.clone()));
    let result = save.value();
    Effect::new(move |_| {
        if let Some(Ok(kept)) = result.get() {
            value.set(kept.clone().unwrap_or_default());
            if let Some(me) = me {
                me.refetch();
            }
            toast.set(Some(match kept {
                Some(_) => "Display name saved.".into(),
                None => "Display name removed.".into(),
            }));
        }
    });
    view! {
        <section class="card section" aria-labelledby="name-title">
            <div class="section-text">
                <h2 id="name-title">"Your name"</h2>
                <p class="muted" id="name-hint">
                    {format!("Optional. Shown at the top of these pages and in the emails we send you. Up to {DISPLAY_NAME_MAX} characters.")}
                </p>
                <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); save.dispatch(value.get_untracked()); } novalidate>
                    <FormAlert message=general_error(result)/>
                    <TextField label="Display name" name="display_name" value=value error=field_error(result, "display_name") autocomplete="name"/>
                    <SubmitButton label="Save" pending=save.pending()/>
                </form>
            </div>
        </section>
    }
}

#[component]
fn EmailSection(
    profile: Profile,
    toast: RwSignal<Option<String>>,
    on_change: Callback<()>,
    reload: Callback<()>,
) -> impl IntoView {
    let resend = Action::new(|_: &()| resend_email_change());
    let cancel = Action::new(|_: &()| cancel_email_change());
    let (resent, cancelled) = (resend.value(), cancel.value());
    Effect::new(move |_| {
        if let Some(Ok(p)) = resent.get() {
            toast.set(Some(format!(
                "We sent a new link to {}. The one before no longer works.",
                p.new_email
            )));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = cancelled.get() {
            toast.set(Some(
                "Email change cancelled. Your address stays as it is.".into(),
            ));
            reload.run(());
            focus_when_present("email-change");
        }
    });
    let verified = profile.email_verified;
    view! {
        <section class="card section" aria-labelledby="profile-email-title">
            <div class="section-text">
                <h2 id="profile-email-title">"Email address"</h2>
                <p class="muted">"You sign in with it, and we send it security notices, codes and password reset links. Keep that mailbox secure."</p>
                <p class="section-state">
                    <span class="mono">{profile.email.clone()}</span>
                    {if verified {
                        view! { <span class="badge badge-success">"Verified"</span> }.into_any()
                    } else {
                        view! { <span class="badge badge-warning">"Not verified"</span> }.into_any()
                    }}
                </p>
                {match profile.pending {
                    Some(p) => view! {
                        <div class="notice notice-info" role="group" aria-labelledby="pending-email">
                            <p class="pending-email" id="pending-email">
                                <strong>"Pending: "</strong><span class="mono">{p.new_email.clone()}</span>
                            </p>
                            <p>"We sent a link to that address. Your address changes only once you open it (within 24 hours)."</p>
                            <FormAlert message=general_error(resent)/>
                            <FormAlert message=general_error(cancelled)/>
                            <div class="method-actions">
                                <button type="button" id="email-resend" class="btn btn-secondary" disabled=move || resend.pending().get() on:click=move |_| { resend.dispatch(()); }>"Resend"</button>
                                <button type="button" class="btn btn-danger" disabled=move || cancel.pending().get() on:click=move |_| { cancel.dispatch(()); }>"Cancel Change"</button>
                            </div>
                        </div>
                    }.into_any(),
                    None => view! {
                        <div class="method-actions">
                            <button type="button" id="email-change" class="btn btn-secondary" on:click=move |_| on_change.run(())>"Change Email"</button>
                        </div>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}

/// The dialog: the new address (and the password, when the recent-proof rule asks).
#[component]
fn ChangeEmail(open: RwSignal<bool>, on_sent: Callback<PendingEmail>) -> impl IntoView {
    let new_email = RwSignal::new(String::new());
    let action = Action::new(|(e, p): &(String, Option<String>)| {
        let (e, p) = (e.clone(), p.clone());
        async move { request_email_change(e, p).await }
    });
    let value = action.value();
    let (password, asked) = proof_asked(value);
    Effect::new(move |_| {
        if let Some(Ok(p)) = value.get() {
            on_sent.run(p);
        }
    });
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            action.dispatch((new_email.get_untracked(), proof(password, asked)));
        } novalidate>
            <p>"We send a link to the new address. Your address changes only when you open it; your current address then gets a notice with a link to undo the change."</p>
            <FormAlert message=general_error(value)/>
            <TextField label="New Email Address" name="new_email" kind="email" autocomplete="email" value=new_email error=field_error(value, "new_email")/>
            <ProofField password=password asked=asked error=field_error(value, "password")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Send Verification Link" pending=action.pending()/>
            </div>
        </form>
    }
}
