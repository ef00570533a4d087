//! Settings > IP allowlist.
use serde::{Deserialize, Serialize};

/// One entry: an address or a range, and a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowEntry {
    pub value: String,
    pub note: String,
}

/// The list as saved, and the address this request comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowlistView {
    pub enabled: bool,
    pub entries: Vec<AllowEntry>,
    /// The address Latchkey sees this browser at (what a list must keep to stay in).
    pub here: String,
    pub max_entries: usize,
}

/// What "Test an address" found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressTest {
    pub address: String,
    pub allowed: bool,
    /// Why, in words ("203.0.113.0/24 (office) lets it in", "the list is off").
    pub because: String,
}
