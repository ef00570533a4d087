//! Reusable pieces of the interface, shared by server rendering and the browser.
pub mod code_input;
pub mod copy;
pub mod countdown;
pub mod dialog;
pub mod fields;
pub mod focus;
pub mod layout;
pub mod local_time;
pub mod new_password;
pub mod password_checklist;
pub mod recovery_codes;
pub mod strength;
pub mod toast;
pub mod webauthn;

pub use code_input::{submit_once, CodeInput};
pub use copy::CopyButton;
pub use countdown::{ResendButton, ResendClock};
pub use dialog::Dialog;
pub use fields::{Alert, FormAlert, PasswordField, SubmitButton, TextField};
pub use focus::{focus_first_invalid, focus_when_present};
pub use layout::AuthCard;
pub use local_time::{ExactTime, TimeAgo};
pub use new_password::NewPasswordFields;
pub use password_checklist::PasswordChecklist;
pub use recovery_codes::RecoveryCodeList;
pub use strength::StrengthMeter;
pub use toast::Toast;
