//! Settings > Sessions: every browser signed in to the account, and ending them.
use crate::api::sessions::{list_sessions, revoke_other_sessions, revoke_session};
use crate::components::{
    focus_when_present, Dialog, ExactTime, FormAlert, SubmitButton, TimeAgo, Toast,
};
use crate::model::error::ApiError;
use crate::model::sessions::{ActiveSession, DeviceKind};
use crate::pages::proof::{proof, proof_asked, ProofField};
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SessionsPage() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| list_sessions());
    let toast = RwSignal::new(None::<String>);
    // The session "Revoke" was pressed for (the dialog asks about it).
    let revoking = RwSignal::new(None::<ActiveSession>);
    let revoke_open = RwSignal::new(false);
    let others_open = RwSignal::new(false);
    Effect::new(move |_| {
        if !revoke_open.get() {
            revoking.set(None);
        }
    });
    let on_revoked = Callback::new(move |message: String| {
        sessions.refetch();
        toast.set(Some(message));
        // The button that opened the dialog is gone with its row (or with the last
        // other session): the focus goes to the list's heading, not the page's start.
        focus_when_present("active-sessions-title");
    });
    view! {
        <Title text="Sessions · Latchkey"/>
        <h1>"Sessions"</h1>
        <p class="lead">
            "The browsers and devices signed in to your account. If you do not recognise one, revoke it and change your password."
        </p>
        <crate::pages::UntilHydrated>
        <section class="card" aria-labelledby="active-sessions-title">
            <div class="card-heading">
                <h2 id="active-sessions-title" tabindex="-1">"Active Sessions"</h2>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let others = sessions.await.map(|l| l.iter().filter(|s| !s.current).count()).unwrap_or(0);
                        (others > 0).then(|| view! {
                            <button type="button" class="btn btn-danger btn-small" on:click=move |_| others_open.set(true)>
                                "Sign out all other sessions"
                            </button>
                        })
                    })}
                </Transition>
            </div>
            // A reload keeps the list shown until the new one is there.
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{format!("Your sessions could not be loaded: {e}")}</div>
                            <button type="button" class="btn btn-secondary" on:click=move |_| sessions.refetch()>"Try Again"</button>
                        }.into_any(),
                        Ok(list) => {
                            // The server counts this device as active now.
                            let now = list.iter().map(|s| s.last_active_at).max().unwrap_or(0);
                            let others = list.iter().filter(|s| !s.current).count();
                            view! {
                                <ul class="session-list">
                                    {list.into_iter().map(|s| view! { <SessionItem session=s now=now revoking=revoking open=revoke_open/> }).collect_view()}
                                </ul>
                                {(others == 0).then(|| view! {
                                    <p class="muted empty">"No other active sessions. Only this browser is signed in."</p>
                                })}
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
        </crate::pages::UntilHydrated>
        <Dialog open=revoke_open title="Revoke Session" id="revoke-session">
            <RevokeOne session=revoking open=revoke_open on_revoked=on_revoked/>
        </Dialog>
        <Dialog open=others_open title="Sign Out Other Sessions" id="sign-out-others">
            <RevokeOthers open=others_open on_revoked=on_revoked/>
        </Dialog>
        <Toast message=toast/>
    }
}

/// A line drawing of the kind of device (decorative: the kind is also in words).
fn kind_icon(kind: DeviceKind) -> impl IntoView {
    let shape = match kind {
        DeviceKind::Desktop => view! {
            <rect x="3" y="4" width="18" height="12" rx="1.5"/>
            <path d="M9 20h6M12 16v4"/>
        }
        .into_any(),
        DeviceKind::Phone => view! {
            <rect x="7" y="2.5" width="10" height="19" rx="2"/>
            <path d="M11 18.5h2"/>
        }
        .into_any(),
        DeviceKind::Tablet => view! {
            <rect x="4" y="3" width="16" height="18" rx="2"/>
            <path d="M11 18h2"/>
        }
        .into_any(),
        DeviceKind::Unknown => view! {
            <circle cx="12" cy="12" r="9"/>
            <path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5v.7M12 17h.01"/>
        }
        .into_any(),
    };
    view! {
        <svg viewBox="0 0 24 24" width="28" height="28" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
            {shape}
        </svg>
    }
}

#[component]
fn SessionItem(
    session: ActiveSession,
    now: i64,
    revoking: RwSignal<Option<ActiveSession>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let title_id = format!("session-{}-title", session.id);
    let current = session.current;
    let chosen = session.clone();
    view! {
        <li class="session" aria-labelledby=title_id.clone()>
            <span class="session-icon">{kind_icon(session.kind)}</span>
            <div class="session-text">
                <h3 id=title_id.clone() class="session-title">
                    {session.device.clone()}
                    {current.then(|| view! { <span class="badge badge-success">"This device"</span> })}
                </h3>
                <dl class="facts">
                    <div><dt>"Device type"</dt><dd>{session.kind.label()}</dd></div>
                    <div><dt>"Location"</dt><dd>{session.location.clone()}</dd></div>
                    <div><dt>"IP address"</dt><dd class="mono">{session.ip.clone()}</dd></div>
                    <div><dt>"Signed in"</dt><dd><ExactTime at=session.signed_in_at/></dd></div>
                    <div><dt>"Last activity"</dt><dd>
                        {if current {
                            view! { <span>"Active now"</span> }.into_any()
                        } else {
                            view! { <TimeAgo at=session.last_active_at now=now/> }.into_any()
                        }}
                    </dd></div>
                </dl>
            </div>
            {(!current).then(|| view! {
                <button type="button" class="btn btn-secondary btn-small" aria-describedby=title_id.clone() on:click=move |_| {
                    revoking.set(Some(chosen.clone()));
                    open.set(true);
                }>"Revoke"</button>
            })}
        </li>
    }
}

#[component]
fn RevokeOne(
    session: RwSignal<Option<ActiveSession>>,
    open: RwSignal<bool>,
    on_revoked: Callback<String>,
) -> impl IntoView {
    let action =
        Action::new(|(id, password): &(i64, Option<String>)| revoke_session(*id, password.clone()));
    let value = action.value();
    let (password, asked) = proof_asked(value);
    Effect::new(move |_| {
        match value.get() {
            Some(Ok(())) => {
                open.set(false);
                on_revoked.run("Session revoked. That browser is signed out.".into());
            }
            // It ended meanwhile (signed out, expired): the list was out of date.
            Some(Err(ApiError::NotFound(_))) => {
                open.set(false);
                on_revoked.run("That session had already ended.".into());
            }
            _ => {}
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(s) = session.get_untracked() {
            action.dispatch((s.id, proof(password, asked)));
        }
    };
    view! {
        <form class="dialog-body" on:submit=on_submit>
            {move || session.get().map(|s| view! {
                <p>
                    <strong>{s.device}</strong>" · "{s.location}" · "<span class="mono">{s.ip}</span>
                </p>
            })}
            <p>"This browser is signed out at once: its next step asks for your password again."</p>
            <FormAlert message=general_error(value)/>
            <ProofField password=password asked=asked error=field_error(value, "password")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Revoke" pending=action.pending() danger=true/>
            </div>
        </form>
    }
}

#[component]
fn RevokeOthers(open: RwSignal<bool>, on_revoked: Callback<String>) -> impl IntoView {
    let action = Action::new(|password: &Option<String>| revoke_other_sessions(password.clone()));
    let value = action.value();
    let (password, asked) = proof_asked(value);
    Effect::new(move |_| {
        if let Some(Ok(n)) = value.get() {
            open.set(false);
            let message = match n {
                1 => "Signed out of 1 other session.".to_string(),
                n => format!("Signed out of {n} other sessions."),
            };
            on_revoked.run(message);
        }
    });
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); action.dispatch(proof(password, asked)); }>
            <p>"Every other browser and device signed in to your account is signed out at once. This one stays signed in."</p>
            <FormAlert message=general_error(value)/>
            <ProofField password=password asked=asked error=field_error(value, "password")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Sign Out Other Sessions" pending=action.pending() danger=true/>
            </div>
        </form>
    }
}
