use super::MeResource;
use crate::api::accounts::{current_account, resend_verification, sign_out};
use crate::pages::go_to;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

/// Header (product, account, Sign Out), the section navigation and the content column.
#[component]
pub fn SettingsLayout() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_account());
    provide_context(MeResource(me));
    view! {
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/settings/security">"Latchkey"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        me.await.ok().flatten().map(|me| view! {
                            <div class="account">
                                {me.display_name.map(|n| view! { <span class="account-name">{n}</span> })}
                                <span class="account-email">{me.email}</span>
                                <SignOutButton/>
                            </div>
                        })
                    })}
                </Suspense>
            </header>
            <div class="settings">
                <nav class="settings-nav" aria-label="Settings">
                    <A href="/settings/profile">"Profile"</A>
                    <A href="/settings/security">"Security"</A>
                    <A href="/settings/sessions">"Sessions"</A>
                    <A href="/settings/security-log">"Security log"</A>
                    <A href="/settings/tokens">"API tokens"</A>
                    <A href="/settings/notifications">"Notifications"</A>
                    <A href="/settings/ip-allowlist">"IP allowlist"</A>
                </nav>
                <div class="content">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            me.await.ok().flatten().filter(|m| !m.email_verified).map(|m| view! { <VerificationBanner email=m.email/> })
                        })}
                    </Suspense>
                    <main>
                        <Outlet/>
                    </main>
                </div>
            </div>
        </div>
    }
}

#[component]
fn SignOutButton() -> impl IntoView {
    let action = Action::new(|_: &()| sign_out());
    let value = action.value();
    Effect::new(move |_| {
        if value.get().is_some() {
            // Signed out (or the session had already ended): either way, back to sign-in.
            go_to("/signin");
        }
    });
    view! {
        <button type="button" class="btn btn-secondary btn-small" disabled=move || action.pending().get() on:click=move |_| { action.dispatch(()); }>
            "Sign Out"
        </button>
    }
}

#[component]
fn VerificationBanner(email: String) -> impl IntoView {
    let action = Action::new(|_: &()| resend_verification());
    let value = action.value();
    view! {
        <section class="banner banner-warning" aria-label="Email verification">
            <div>
                <strong>"Verify your email address."</strong>
                " We sent a link to " <span class="mono">{email}</span>
                ". Until you follow it, we cannot use this address to help you recover your account."
                <p class="banner-status" role="status">
                    {move || match value.get() {
                        Some(Ok(())) => Some("We sent a new verification email. Check your inbox.".to_string()),
                        Some(Err(e)) => Some(e.to_string()),
                        None => None,
                    }}
                </p>
            </div>
            <button type="button" class="btn btn-secondary" disabled=move || action.pending().get() on:click=move |_| { action.dispatch(()); }>
                "Resend Verification Email"
            </button>
        </section>
    }
}
