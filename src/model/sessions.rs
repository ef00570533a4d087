//! The Sessions page's data: one signed-in browser of the account.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceKind {
    Desktop,
    Phone,
    Tablet,
    Unknown,
}

impl DeviceKind {
    pub fn label(self) -> &'static str {
        match self {
            DeviceKind::Desktop => "Desktop",
            DeviceKind::Phone => "Phone",
            DeviceKind::Tablet => "Tablet",
            DeviceKind::Unknown => "Unknown device",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveSession {
    /// The session's number (never its token): what "Revoke" names.
    pub id: i64,
    /// "Chrome on Linux".
    pub device: String,
    pub kind: DeviceKind,
    /// "City, Country", "Local network" or "Unknown location".
    pub location: String,
    pub ip: String,
    /// Unix seconds.
    pub signed_in_at: i64,
    pub last_active_at: i64,
    /// The browser asking: marked "This device", without "Revoke".
    pub current: bool,
}
