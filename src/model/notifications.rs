//! Settings > Notifications and the "This wasn't me" page.
use serde::{Deserialize, Serialize};

/// Which new sign-ins the owner is told about by email (all on by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSwitches {
    pub new_device: bool,
    pub new_location: bool,
    pub new_browser: bool,
}

/// The sign-in a notice's "This wasn't me" link is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotMeInfo {
    /// When, in words ("6 Dec 2026 at 20:15 UTC"): written by the server, so that this
    /// signed-out page carries no date code of its own.
    pub when: String,
    pub ip: String,
    pub place: String,
    pub browser: String,
    /// The link was used: that session is signed out already.
    pub used: bool,
    pub expired: bool,
}
