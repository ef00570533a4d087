//! The shell, the routes and the settings layout.
mod settings_layout;

use crate::model::account::Me;
use crate::model::error::ApiError;
use crate::pages::{
    forgot_password::ForgotPasswordPage, not_found::NotFoundPage,
    reset_password::ResetPasswordPage, security::SecurityPage, security_log::SecurityLogPage,
    sessions::SessionsPage, sign_in::SignInPage, sign_in_verify::SignInVerifyPage,
    sign_up::SignUpPage, verify_email::VerifyEmailPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
use leptos_router::{lazy_route, Lazy, LazyRoute, SsrMode};
pub use settings_layout::SettingsLayout;

/// The signed-in account, loaded once by the settings layout for all its pages.
#[derive(Clone, Copy)]
pub struct MeResource(pub Resource<Result<Option<Me>, ApiError>>);

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="icon" href="/favicon.ico" sizes="32x32"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Sends the page's Content-Security-Policy: scripts only from this origin or carrying
/// this response's nonce (leptos puts it on the hydration script and its inline data),
/// WebAssembly allowed to compile, no inline style, nothing from elsewhere.
#[cfg(feature = "ssr")]
fn content_security_policy(options: &LeptosOptions) {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // Under `cargo leptos watch` the page also talks to the live-reload socket.
    let reload = if std::env::var_os("LEPTOS_WATCH").is_some() {
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

/// Each page is a lazy route: built with `cargo leptos build --split`, its code is a
/// WebAssembly chunk of its own that the browser loads when the page is first shown,
/// so a visitor of the sign-in page never downloads the settings pages. Without
/// `--split` (tests, debug builds) the pages are simply part of the one bundle.
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
    )*};
}

lazy_pages! {
    SignInRoute => SignInPage,
    SignInVerifyRoute => SignInVerifyPage,
    SignUpRoute => SignUpPage,
    VerifyEmailRoute => VerifyEmailPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    SecurityRoute => SecurityPage,
    ActivityRoute => ActivityPages,
}

/// Sessions and Security log share one WebAssembly chunk: what they have in common
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
                <Route path=path!("/signin") view={Lazy::<SignInRoute>::new()}/>
                <Route path=path!("/signin/verify") view={Lazy::<SignInVerifyRoute>::new()}/>
                <Route path=path!("/signup") view={Lazy::<SignUpRoute>::new()}/>
                <Route path=path!("/verify-email") view={Lazy::<VerifyEmailRoute>::new()}/>
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()}/>
                <Route path=path!("/reset-password") view={Lazy::<ResetPasswordRoute>::new()}/>
                // Rendered whole before it is sent: the settings resources come from
                // the local database in well under a millisecond, and one write beats
                // a stream of small ones.
                <ParentRoute path=path!("/settings") view=SettingsLayout ssr=SsrMode::Async>
                    <Route path=path!("security") view={Lazy::<SecurityRoute>::new()}/>
                    <Route path=path!("sessions") view={Lazy::<ActivityRoute>::new()}/>
                    <Route path=path!("security-log") view={Lazy::<ActivityRoute>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
