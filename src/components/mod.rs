//! Reusable pieces of the interface, shared by server rendering and the browser.
pub mod dialog;
pub mod fields;
pub mod layout;
pub mod new_password;
pub mod password_checklist;
pub mod strength;
pub mod toast;

pub use dialog::Dialog;
pub use fields::{FormAlert, PasswordField, SubmitButton, TextField};
pub use layout::AuthCard;
pub use new_password::NewPasswordFields;
pub use password_checklist::PasswordChecklist;
pub use strength::StrengthMeter;
pub use toast::Toast;
