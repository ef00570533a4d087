//! Settings > IP allowlist (seed 002, "Advanced Security: IP Allowlist: enable IP
//! allowlist, add allowed IPs/ranges, save configuration"): reading, saving (the
//! recent-proof rule; every entry valid or nothing saved; a list that leaves out the
//! address in use is saved only when the owner says they understand) and testing an
//! address. Enforcement is in `auth::allowlist`.
use crate::model::allowlist::{AddressTest, AllowEntry, AllowlistView};
use crate::server::audit::log_within;
use crate::server::auth::identity::require_recent_proof;
use crate::server::auth::session::still_signed_in;
use crate::server::auth::Caller;
use crate::server::domain::allowlist::{self, MAX_ENTRIES};
use crate::server::domain::security_log::EventKind;
use crate::server::error::{Error, Result};
use crate::server::{store, AppState};
use serde_json::json;

pub async fn view(state: &AppState, caller: &Caller) -> Result<AllowlistView> {
    let me = caller.signed_in()?;
    let (enabled, entries) = store::allowlist::get(&state.db, me.user_id).await?;
    Ok(AllowlistView {
        enabled,
        entries: entries
            .into_iter()
            .map(|e| AllowEntry {
                value: e
                    .cidr
                    .parse::<ipnet::IpNet>()
                    .map_or(e.cidr.clone(), |n| allowlist::shown(&n)),
                note: e.note,
            })
            .collect(),
        here: caller.ip.clone(),
        max_entries: MAX_ENTRIES,
    })
}

/// "Save configuration": the switch and the whole list.
pub async fn save(
    state: &AppState,
    caller: &Caller,
    enabled: bool,
    typed: Vec<AllowEntry>,
    understood: bool,
    password: Option<&str>,
    now: i64,
) -> Result<AllowlistView> {
    let me = caller.signed_in()?;
    require_recent_proof(state, caller, password, now).await?;
    let pairs: Vec<(String, String)> = typed.into_iter().map(|e| (e.value, e.note)).collect();
    let entries = allowlist::validate(&pairs).map_err(|problems| {
        Error::field(
            "entries",
            problems
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join(" "),
        )
    })?;
    let nets: Vec<ipnet::IpNet> = entries.iter().map(|e| e.net).collect();
    if allowlist::locks_out(enabled, &nets, &caller.ip) && !understood {
        return Err(Error::field(
            "understood",
            format!(
                "This list leaves out {}, the address you are using now: saving it signs you out here. Add that address, or tick \"I understand this will sign me out here\".",
                caller.ip
            ),
        ));
    }
    let stored: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.net.to_string(), e.note.clone()))
        .collect();
    let mut tx = state.db.begin().await?;
    still_signed_in(&mut tx, me.user_id, me.session_id).await?;
    store::allowlist::replace(&mut tx, me.user_id, enabled, &stored).await?;
    log_within(
        &mut tx,
        caller,
        Some(me.user_id),
        EventKind::AllowlistChanged,
        now,
        json!({"enabled": enabled, "entries": stored.len()}),
    )
    .await?;
    tx.commit().await?;
    view(state, caller).await
}

/// "Test an address": whether the list as saved lets `address` in.
pub async fn test_address(state: &AppState, caller: &Caller, address: &str) -> Result<AddressTest> {
    let me = caller.signed_in()?;
    let ip: std::net::IpAddr = address
        .trim()
        .parse()
        .map_err(|_| Error::field("address", "Enter an IP address such as 203.0.113.7."))?;
    let ip = allowlist::canonical(ip);
    let (enabled, entries) = store::allowlist::get(&state.db, me.user_id).await?;
    let parsed: Vec<(ipnet::IpNet, &store::allowlist::EntryRow)> = entries
        .iter()
        .filter_map(|e| Some((e.cidr.parse().ok()?, e)))
        .collect();
    let nets: Vec<ipnet::IpNet> = parsed.iter().map(|(n, _)| *n).collect();
    let hit = allowlist::first_match(&nets, ip).map(|i| parsed[i].1);
    let (allowed, because) = match (enabled, hit) {
        (false, _) => (
            true,
            "The allowlist is off: every address is let in.".to_string(),
        ),
        (true, Some(e)) if e.note.is_empty() => (true, format!("{} lets it in.", e.cidr)),
        (true, Some(e)) => (true, format!("{} ({}) lets it in.", e.cidr, e.note)),
        (true, None) => (false, "No entry of the saved list holds it.".to_string()),
    };
    Ok(AddressTest {
        address: ip.to_string(),
        allowed,
        because,
    })
}
