mod email_code;
mod mfa;
mod password;
mod sms_code;

use crate::api::notifications::remember_time_zone;
use crate::app::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;
use mfa::MfaSection;
use password::PasswordSection;

/// Settings > Security.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
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
                    <a href="/settings/sessions">"Sessions"</a>
                    <span class="muted">"Review where you are signed in, and revoke what you do not recognise."</span>
                </li>
                <li>
                    <a href="/settings/tokens">"API Keys"</a>
                    <span class="muted">"Manage API access tokens."</span>
                </li>
                <li>
                    <a href="/settings/security-log">"Security log"</a>
                    <span class="muted">"See every sign-in and change to your account."</span>
                </li>
            </ul>
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
