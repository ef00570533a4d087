//! Reusable pieces of the interface, shared by server rendering and the browser.
pub mod fields;
pub mod layout;
pub mod password_checklist;

pub use fields::{FormAlert, PasswordField, SubmitButton, TextField};
pub use layout::AuthCard;
pub use password_checklist::PasswordChecklist;
