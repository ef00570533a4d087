//! One module per page.
pub mod allowlist;
pub mod email_change;
pub mod forgot_password;
pub mod not_found;
pub mod not_me;
pub mod notifications;
pub mod profile;
pub mod proof;
pub mod reset_password;
pub mod security;
pub mod security_log;
pub mod sessions;
pub mod sign_in;
pub mod sign_in_verify;
pub mod sign_up;
pub mod tokens;
pub mod verify_email;

use crate::model::error::ApiError;
use leptos::prelude::*;

/// The token of the emailed link that opened this page: from the fragment
/// (`#token=…`, read in the browser, since no server ever sees it), or from `?token=`
/// in links sent before tokens moved to the fragment. Gives the token and whether it
/// has been looked for: until then the page says it is checking the link.
pub fn link_token() -> (ReadSignal<String>, ReadSignal<bool>) {
    let query = leptos_router::hooks::use_query_map();
    let from_query = query.with_untracked(|q| q.get("token")).unwrap_or_default();
    let found = !from_query.is_empty();
    let (token, set_token) = signal(from_query);
    let (ready, set_ready) = signal(found);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if token.get_untracked().is_empty() {
            let hash = web_sys::window().and_then(|w| w.location().hash().ok());
            if let Some(t) = hash
                .as_deref()
                .and_then(crate::model::account::token_from_fragment)
            {
                set_token.set(t);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = set_token;
        set_ready.set(true);
    });
    (token, ready)
}

/// True until the page's script has taken over (always true for a browser that runs
/// none): what only such a browser needs (a form for a pasted link) is rendered while
/// it holds, and also hidden by CSS (`.without-script`) from the moment script starts.
pub fn without_script() -> ReadSignal<bool> {
    let (without, set_without) = signal(true);
    Effect::new(move |_| set_without.set(false));
    without
}

/// Settings content whose buttons open dialogs or call server functions, which only
/// the page's script can do: server-rendered for everyone to read, its controls
/// disabled (a disabled fieldset, which keyboards and screen readers respect) until
/// the script has taken over, so an early press is refused visibly rather than lost.
#[component]
pub fn UntilHydrated(children: Children) -> impl IntoView {
    let without = without_script();
    view! {
        <fieldset class="until-hydrated" role="none" disabled=move || without.get()>
            {children()}
        </fieldset>
    }
}

/// The error of the last run of an action, for one form field.
pub fn field_error<T, S>(value: S, field: &'static str) -> Signal<Option<String>>
where
    T: 'static,
    S: With<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| field_of(v.as_ref().and_then(|r| r.as_ref().err()), field))
    })
}

fn field_of(error: Option<&ApiError>, field: &str) -> Option<String> {
    error?.for_field(field)
}

/// The error of the last run of an action that belongs to no single field.
pub fn general_error<T, S>(value: S) -> Signal<Option<crate::components::Alert>>
where
    T: 'static,
    S: With<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
{
    // The generic part stays one line: it is compiled once per form, the rest once.
    Signal::derive(move || value.with(|v| alert_of(v.as_ref().and_then(|r| r.as_ref().err()))))
}

fn alert_of(error: Option<&ApiError>) -> Option<crate::components::Alert> {
    let e = error?;
    e.general().map(|text| crate::components::Alert {
        text,
        retry_after: match e {
            ApiError::TooManyRequests { retry_after } => Some(*retry_after),
            _ => None,
        },
    })
}

/// A full page load: the server renders the next page with the new session.
pub fn go_to(path: &str) {
    let _ = window().location().set_href(path);
}
