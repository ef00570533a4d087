//! The recent-proof rule on the page: an action answered `ProofNeeded` shows a
//! password field in place and is sent again with the password.
use crate::components::{focus_when_present, PasswordField};
use crate::model::error::ApiError;
use leptos::prelude::*;

/// The password a revocation asks for when the owner has not proved who they are
/// recently (the server's recent-proof rule answered `ProofNeeded`), and whether it
/// was asked for. Once asked, the field stays, and gets the focus.
pub fn proof_asked<T, S>(value: S) -> (RwSignal<String>, RwSignal<bool>)
where
    T: 'static,
    S: With<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
{
    let password = RwSignal::new(String::new());
    let asked = RwSignal::new(false);
    Effect::new(move |_| {
        if value.with(|v| matches!(v, Some(Err(ApiError::ProofNeeded(_))))) {
            asked.set(true);
            focus_when_present("field-password");
        }
    });
    (password, asked)
}

/// The password to send with the action, once it was asked for.
pub fn proof(password: RwSignal<String>, asked: RwSignal<bool>) -> Option<String> {
    asked.get_untracked().then(|| password.get_untracked())
}

#[component]
pub fn ProofField(
    password: RwSignal<String>,
    asked: RwSignal<bool>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || asked.get()>
            <PasswordField label="Password" name="password" value=password error=error/>
        </Show>
    }
}
