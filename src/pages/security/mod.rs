mod email_code;
mod mfa;
mod passkeys;
mod password;
mod sms_code;

use crate::api::notifications::remember_time_zone;
use crate::api::profile::get_checklist;
use crate::app::MeResource;
use crate::model::profile::Mark;
use leptos::prelude::*;
use leptos_meta::Title;
use mfa::MfaSection;
use password::PasswordSection;

/// Bumped by a section whose dialog changed the account (a method turned on, the
/// password changed): the checklist follows without a reload.
#[derive(Clone, Copy)]
pub struct AccountChanged(pub RwSignal<u64>);

/// Settings > Security.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
    provide_context(AccountChanged(RwSignal::new(0)));
    // Sign-in notices give their time in the owner's zone too: tell the server the
    // browser's when it knows another (once per page load at most). Here, on the page
    // a sign-in lands on, not in the settings layout: the layout's code is part of
    // every page's first load.
    Effect::new(move |told: Option<bool>| {
        if told == Some(true) {
            return true;
        }
        let Some(Ok(Some(account))) = me.get() else {
            return false;
        };
        if let Some(zone) = browser_zone().filter(|z| account.time_zone.as_deref() != Some(z)) {
            leptos::task::spawn_local(async move {
                let _ = remember_time_zone(zone).await;
            });
        }
        true
    });
    view! {
        <Title text="Security · Latchkey"/>
        <h1>"Security"</h1>
        <p class="lead">"How you sign in to Latchkey and how your account is protected."</p>
        <Checklist/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                Err(e) => Some(view! {
                    <div class="alert alert-error" role="alert">{format!("Your account could not be loaded: {e}")}</div>
                    <button type="button" class="btn btn-secondary" on:click=move |_| me.refetch()>"Try Again"</button>
                }.into_any()),
                Ok(None) => None,
                Ok(Some(me)) => Some({
                    let verified = me.email_verified;
                    view! {
                        <section class="card section" aria-labelledby="email-title">
                            <div class="section-text">
                                <h2 id="email-title">"Email address"</h2>
                                <p class="muted">"Used to sign in, to recover your account and for security notices."</p>
                                <p class="section-state">
                                    <span class="mono">{me.email.clone()}</span>
                                    {if verified {
                                        view! { <span class="badge badge-success">"Verified"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge badge-warning">"Not verified"</span> }.into_any()
                                    }}
                                </p>
                                <a href="/settings/profile">"Change it in Profile"</a>
                            </div>
                        </section>
                    }.into_any()
                }),
                }
            })}
        </Suspense>
        <crate::pages::UntilHydrated>
            <PasswordSection/>
            <MfaSection/>
        </crate::pages::UntilHydrated>
        <section class="card" aria-labelledby="next-steps-title">
            <h2 id="next-steps-title">"Next steps"</h2>
            <ul class="next-steps">
                <li>
                    <a href="/settings/profile">"Profile Settings"</a>
                    <span class="muted">"Update your personal information: your name and email address."</span>
                </li>
                <li>
                    <a href="/settings/sessions">"Sessions"</a>
                    <span class="muted">"Review where you are signed in, and revoke what you do not recognise."</span>
                </li>
                <li>
                    <a href="/settings/tokens">"API Keys"</a>
                    <span class="muted">"Manage API access tokens for scripts and programs."</span>
                </li>
                <li>
                    <a href="/settings/security-log">"Security log"</a>
                    <span class="muted">"See every sign-in and change to your account."</span>
                </li>
            </ul>
        </section>
    }
}

/// The security checklist (seeds 000/001, "Security Best Practices"): each line from
/// the account as it is, with its state in words and the way to the fix.
#[component]
fn Checklist() -> impl IntoView {
    let changed = expect_context::<AccountChanged>().0;
    let lines = Resource::new(move || changed.get(), |_| get_checklist());
    view! {
        <section class="card section" aria-labelledby="checklist-title">
            <div class="section-text">
                <h2 id="checklist-title">"Security checklist"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match lines.await {
                            Err(e) => view! {
                                <div class="alert alert-error" role="alert">{format!("The checklist could not be loaded: {e}")}</div>
                            }.into_any(),
                            Ok(lines) => {
                                let todo = lines.iter().filter(|l| l.mark != Mark::Done).count();
                                view! {
                                    <p class="muted" id="checklist-summary">{match todo {
                                        0 => "Every item is done. Come back now and then: the list follows your account.".to_string(),
                                        1 => "1 item to look at.".to_string(),
                                        n => format!("{n} items to look at."),
                                    }}</p>
                                    <ul class="checklist" aria-labelledby="checklist-title" aria-describedby="checklist-summary">
                                        {lines.into_iter().map(|l| {
                                            let (class, badge) = match l.mark {
                                                Mark::Done => ("check check-done", "badge badge-success"),
                                                Mark::Improve => ("check check-improve", "badge badge-warning"),
                                                Mark::Todo => ("check check-todo", "badge badge-danger"),
                                            };
                                            view! {
                                                <li class=class data-check=l.key.clone()>
                                                    <div class="check-text">
                                                        <p class="check-title"><strong>{l.title.clone()}</strong>" "<span class=badge>{l.mark.label()}</span></p>
                                                        <p class="muted">{l.detail.clone()}</p>
                                                    </div>
                                                    {l.fix.clone().map(|(label, href)| view! {
                                                        <a class="btn btn-secondary btn-small" href=href>{label}</a>
                                                    })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

/// The browser's IANA time zone ("Europe/Berlin"), from Intl.
fn browser_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
            .ok()?
            .as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}
