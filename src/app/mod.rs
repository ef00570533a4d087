//! The shell, the routes and the settings layout.
mod settings_layout;

use crate::model::account::Me;
use crate::model::error::ApiError;
use crate::pages::{
    allowlist::AllowlistPage,
    email_change::{EmailChangePage, UndoEmailChangePage},
    forgot_password::ForgotPasswordPage,
    not_found::NotFoundPage,
    not_me::NotMePage,
    notifications::NotificationsPage,
    profile::ProfilePage,
    reset_password::ResetPasswordPage,
    security::SecurityPage,
    security_log::SecurityLogPage,
    sessions::SessionsPage,
    sign_in::SignInPage,
    sign_in_verify::SignInVerifyPage,
    sign_up::SignUpPage,
    tokens::TokensPage,
    verify_email::VerifyEmailPage,
};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
use leptos_router::{lazy_route, Lazy, LazyRoute, SsrMode};
pub use settings_layout::SettingsLayout;

/// The signed-in account, loaded once by the settings layout for all its pages.
#[derive(Clone, Copy)]
pub struct MeResource(pub Resource<Result<Option<Me>, ApiError>>);

/// The HTML around every page (server only; the browser hydrates `<body>`).
///
/// The head's links and start-up script are worked out once at start
/// ([`PageHead`](crate::server::http::page_head::PageHead)); a page adds its nonce and
/// the preloads of its own WebAssembly chunks, so they download beside the main
/// module instead of after it.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use crate::server::http::page_head::PageHead;
    use std::sync::Arc;
    // Both the page routes and the not-found handler provide the state.
    let head =
        with_context::<crate::server::AppState, _>(|s| s.page_head.clone()).unwrap_or_else(|| {
            tracing::error!("the app state is missing from a page's context");
            Arc::new(PageHead::default())
        });
    let nonce = leptos::nonce::use_nonce();
    content_security_policy(nonce.as_ref(), head.live_reload, &options);
    let path = use_context::<axum::http::request::Parts>().map(|parts| parts.uri.path().to_owned());
    let mut chunks: Vec<&String> = Vec::new();
    for route in path
        .iter()
        .flat_map(|p| [lazy_layout_of(p), lazy_route_of(p)])
        .flatten()
    {
        for chunk in head.chunks(route) {
            if !chunks.contains(&chunk) {
                chunks.push(chunk);
            }
        }
    }
    let chunk_preloads = chunks
        .iter()
        .map(|href| {
            view! {
                <link rel="preload" href=(*href).clone() r#as="fetch" r#type="application/wasm" crossorigin=""/>
            }
        })
        .collect_view();
    // The main script imports the chunk loader, so every page needs it (the sign-in
    // page too, which loads no chunk): preloaded, it is not a second round trip.
    let split_loader = head
        .split_loader
        .clone()
        .map(|href| view! { <link rel="modulepreload" href=href crossorigin=""/> });
    let live_reload = head
        .live_reload
        .then(|| view! { <AutoReload options=options.clone()/> });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="icon" href="/favicon.ico" sizes="32x32"/>
                <link rel="stylesheet" id="leptos" href=head.stylesheet.clone()/>
                // The two scripts first: the start-up script runs once both are in, and
                // over HTTP/1.1 (six connections) a loader listed after the chunks waited
                // for all of them.
                <link rel="modulepreload" href=head.script.clone() crossorigin=""/>
                {split_loader}
                <link rel="preload" href=head.wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin=""/>
                {chunk_preloads}
                <script type="module" nonce=nonce>{head.bootstrap.clone()}</script>
                {live_reload}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The lazy route (see `lazy_pages!`) whose code a page path needs.
pub fn lazy_route_of(path: &str) -> Option<&'static str> {
    Some(match path {
        "/signin/verify" => "sign_in_verify_route",
        "/signup" => "sign_up_route",
        "/verify-email" => "verify_email_route",
        "/forgot-password" => "forgot_password_route",
        "/reset-password" | "/not-me" | "/email-change" | "/undo-email-change" => {
            "reset_password_route"
        }
        "/settings/security" => "security_route",
        "/settings/sessions"
        | "/settings/security-log"
        | "/settings/tokens"
        | "/settings/notifications"
        | "/settings/ip-allowlist"
        | "/settings/profile" => "activity_route",
        _ => return None,
    })
}

/// The lazy route of the layout around a page, if it has one (its chunks are preloaded
/// too).
pub fn lazy_layout_of(path: &str) -> Option<&'static str> {
    path.starts_with("/settings/")
        .then_some("settings_layout_route")
}

/// Sends the page's Content-Security-Policy: scripts only from this origin or carrying
/// this response's nonce (the start-up script and leptos's inline data), WebAssembly
/// allowed to compile, no inline style, nothing from elsewhere.
#[cfg(feature = "ssr")]
fn content_security_policy(
    nonce: Option<&leptos::nonce::Nonce>,
    live_reload: bool,
    options: &LeptosOptions,
) {
    let (Some(nonce), Some(response)) = (nonce, use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    // Under `cargo leptos watch` the page also talks to the live-reload socket.
    let reload = if live_reload {
        format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port)
    } else {
        String::new()
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Every page but sign-in is a lazy route: built with `cargo leptos build --split`, its
/// code is a WebAssembly chunk of its own that the browser loads when the page is first
/// shown, so a visitor of the sign-in page never downloads the settings pages. Without
/// `--split` (tests, debug builds) the pages are simply part of the one bundle. The
/// settings pages' layout is one too: its account resource, header and navigation are
/// not in the sign-in page's download.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[derive(Debug)]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*
        /// The lazy routes' type names (their chunks are named after them).
        #[cfg(test)]
        const LAZY_ROUTES: &[&str] = &[$(stringify!($route)),*];
    };
}

lazy_pages! {
    SignInVerifyRoute => SignInVerifyPage,
    SignUpRoute => SignUpPage,
    VerifyEmailRoute => VerifyEmailPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => RecoveryPages,
    SecurityRoute => SecurityPage,
    ActivityRoute => ActivityPages,
    SettingsLayoutRoute => SettingsLayout,
}

/// "Choose a new password", "This wasn't me" (which leads to it) and the email
/// change's two link pages (the undo leads to it too) share one WebAssembly chunk: a
/// page of its own would split what it shares with the sign-in page into more small
/// chunks that the sign-in page then loads.
#[component]
fn RecoveryPages() -> impl IntoView {
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    if path.ends_with("/not-me") {
        view! { <NotMePage/> }.into_any()
    } else if path.ends_with("/undo-email-change") {
        view! { <UndoEmailChangePage/> }.into_any()
    } else if path.ends_with("/email-change") {
        view! { <EmailChangePage/> }.into_any()
    } else {
        view! { <ResetPasswordPage/> }.into_any()
    }
}

/// Sessions, Security log, API tokens, Notifications, IP allowlist and Profile share one WebAssembly chunk: what they have in common
/// (times, tables, transitions) then stays out of the first load of every page,
/// where wasm-split puts code that two chunks need.
#[component]
fn ActivityPages() -> impl IntoView {
    // Read once: each route makes its own instance, and one that followed the
    // location would build the next page inside the one being taken down.
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    if path.ends_with("/sessions") {
        view! { <SessionsPage/> }.into_any()
    } else if path.ends_with("/tokens") {
        view! { <TokensPage/> }.into_any()
    } else if path.ends_with("/notifications") {
        view! { <NotificationsPage/> }.into_any()
    } else if path.ends_with("/ip-allowlist") {
        view! { <AllowlistPage/> }.into_any()
    } else if path.ends_with("/profile") {
        view! { <ProfilePage/> }.into_any()
    } else {
        view! { <SecurityLogPage/> }.into_any()
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Latchkey"/>
        <Router>
            <Routes fallback=NotFoundPage>
                // The front door is not lazy: its code is in the main module, so the
                // sign-in page loads one WebAssembly file instead of its chunk and the
                // thirty-odd small chunks it shares with the other pages (each a
                // request: issue 28 measured ~4 ms apiece in Chromium even on loopback).
                <Route path=path!("/signin") view=SignInPage/>
                // Rendered whole: a browser without script gets the form, not a
                // placeholder that only script would fill.
                <Route path=path!("/signin/verify") view={Lazy::<SignInVerifyRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/signup") view={Lazy::<SignUpRoute>::new()}/>
                <Route path=path!("/verify-email") view={Lazy::<VerifyEmailRoute>::new()}/>
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()}/>
                <Route path=path!("/reset-password") view={Lazy::<ResetPasswordRoute>::new()}/>
                // Rendered whole: the sign-in the link names, and a form that works
                // without script.
                <Route path=path!("/not-me") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/email-change") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/undo-email-change") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                // Rendered whole before it is sent: the settings resources come from
                // the local database in well under a millisecond, and one write beats
                // a stream of small ones.
                <ParentRoute path=path!("/settings") view={Lazy::<SettingsLayoutRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("security") view={Lazy::<SecurityRoute>::new()}/>
                    <Route path=path!("sessions") view={Lazy::<ActivityRoute>::new()}/>
                    <Route path=path!("security-log") view={Lazy::<ActivityRoute>::new()}/>
                    <Route path=path!("tokens") view={Lazy::<ActivityRoute>::new()}/>
                    <Route path=path!("notifications") view={Lazy::<ActivityRoute>::new()}/>
                    <Route path=path!("ip-allowlist") view={Lazy::<ActivityRoute>::new()}/>
                    <Route path=path!("profile") view={Lazy::<ActivityRoute>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// The pages whose code is in the main module (see `App`).
    const IN_MAIN_MODULE: &[&str] = &["/signin"];

    /// `lazy_route_of` names a lazy route for every other page path, and every lazy
    /// route for some path: a new page or route cannot go without its chunk preloads.
    #[test]
    fn every_page_path_names_its_lazy_route() {
        let snake = |camel: &str| {
            let mut out = String::new();
            for (i, c) in camel.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            }
            out
        };
        let mut named = std::collections::BTreeSet::new();
        for listing in leptos_axum::generate_route_list(App) {
            if IN_MAIN_MODULE.contains(&listing.path()) {
                assert_eq!(lazy_route_of(listing.path()), None);
                continue;
            }
            let route = lazy_route_of(listing.path())
                .unwrap_or_else(|| panic!("{} has no lazy route", listing.path()));
            named.insert(route.to_string());
            named.extend(lazy_layout_of(listing.path()).map(str::to_string));
        }
        let declared: std::collections::BTreeSet<String> =
            LAZY_ROUTES.iter().map(|r| snake(r)).collect();
        assert_eq!(named, declared);
        assert_eq!(lazy_route_of("/nope"), None);
    }
}
