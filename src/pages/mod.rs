//! One module per page.
pub mod forgot_password;
pub mod not_found;
pub mod reset_password;
pub mod security;
pub mod sign_in;
pub mod sign_in_verify;
pub mod sign_up;
pub mod verify_email;

use crate::model::error::ApiError;
use leptos::prelude::*;

/// The error of the last run of an action, for one form field.
pub fn field_error<T, S>(value: S, field: &'static str) -> Signal<Option<String>>
where
    T: 'static,
    S: With<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .and_then(|e| e.for_field(field))
        })
    })
}

/// The error of the last run of an action that belongs to no single field.
pub fn general_error<T, S>(value: S) -> Signal<Option<String>>
where
    T: 'static,
    S: With<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .and_then(|e| e.general())
        })
    })
}

/// A full page load: the server renders the next page with the new session.
pub fn go_to(path: &str) {
    let _ = window().location().set_href(path);
}
