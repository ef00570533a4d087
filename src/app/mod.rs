//! The shell, the routes and the settings layout.
mod settings_layout;

use crate::model::account::Me;
use crate::model::error::ApiError;
use crate::pages::{
    forgot_password::ForgotPasswordPage, not_found::NotFoundPage,
    reset_password::ResetPasswordPage, security::SecurityPage, sign_in::SignInPage,
    sign_in_verify::SignInVerifyPage, sign_up::SignUpPage, verify_email::VerifyEmailPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
pub use settings_layout::SettingsLayout;

/// The signed-in account, loaded once by the settings layout for all its pages.
#[derive(Clone, Copy)]
pub struct MeResource(pub Resource<Result<Option<Me>, ApiError>>);

pub fn shell(options: LeptosOptions) -> impl IntoView {
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Lets tests (and impatient people) know the page is interactive.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text="Latchkey"/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/signin") view=SignInPage/>
                <Route path=path!("/signin/verify") view=SignInVerifyPage/>
                <Route path=path!("/signup") view=SignUpPage/>
                <Route path=path!("/verify-email") view=VerifyEmailPage/>
                <Route path=path!("/forgot-password") view=ForgotPasswordPage/>
                <Route path=path!("/reset-password") view=ResetPasswordPage/>
                <ParentRoute path=path!("/settings") view=SettingsLayout>
                    <Route path=path!("security") view=SecurityPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
