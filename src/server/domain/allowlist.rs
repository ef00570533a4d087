//! The IP allowlist (seed 002, "Advanced Security: IP Allowlist"): which client
//! addresses may sign in to an account and use its sessions and tokens. Entries are
//! single IPv4/IPv6 addresses or CIDR ranges (`ipnet`). Pure rules.
use ipnet::IpNet;
use std::net::IpAddr;

/// At most this many entries per account.
pub const MAX_ENTRIES: usize = 100;
/// At most this many characters in an entry's note.
pub const MAX_NOTE: usize = 100;
/// The owner is told about refused addresses at most once in this long.
pub const TELL_EVERY_SECS: i64 = 3_600;

/// One entry as typed: an address or a range, and a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub net: IpNet,
    pub note: String,
}

/// An address as the rules compare it: an IPv4 address written as IPv6 (`::ffff:a.b.c.d`,
/// as a dual-stack listener reports IPv4 clients) is that IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Reads "203.0.113.5", "2001:db8::1", "10.0.0.0/8" or "2001:db8::/32"; a range with
/// host bits set ("10.0.0.7/8") is read as its network. The message names the entry.
pub fn parse_entry(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Enter an IP address or a range such as 203.0.113.0/24.".into());
    }
    if let Ok(net) = t.parse::<IpNet>() {
        return Ok(canonical_net(net.trunc()));
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(canonical_net(IpNet::from(canonical(ip))));
    }
    Err(format!(
        "\"{}\" is not an IP address or a range (such as 203.0.113.7 or 203.0.113.0/24).",
        t.chars().take(60).collect::<String>()
    ))
}

/// `::ffff:203.0.113.0/120` is `203.0.113.0/24`.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
            Some(v4) if v6.prefix_len() >= 96 => {
                IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).map_or(net, |n| n.trunc())
            }
            _ => net,
        },
        IpNet::V4(_) => net,
    }
}

/// Checks a whole list as typed (address or range, note): the entries, or one message
/// per bad entry (its position and what is wrong). Nothing is saved unless all hold.
pub fn validate(typed: &[(String, String)]) -> Result<Vec<Entry>, Vec<(usize, String)>> {
    let mut problems = Vec::new();
    if typed.len() > MAX_ENTRIES {
        problems.push((
            MAX_ENTRIES,
            format!(
                "At most {MAX_ENTRIES} entries: remove {}.",
                typed.len() - MAX_ENTRIES
            ),
        ));
    }
    let mut entries: Vec<Entry> = Vec::new();
    for (i, (value, note)) in typed.iter().enumerate() {
        match parse_entry(value) {
            Err(m) => problems.push((i, m)),
            Ok(net) => {
                let note = note.trim();
                if note.chars().count() > MAX_NOTE {
                    problems.push((
                        i,
                        format!("The note of {net} is longer than {MAX_NOTE} characters."),
                    ));
                } else if note.chars().any(char::is_control) {
                    problems.push((
                        i,
                        format!("The note of {net} has characters that cannot be shown."),
                    ));
                } else if entries.iter().any(|e| e.net == net) {
                    problems.push((i, format!("{net} is in the list twice.")));
                } else {
                    entries.push(Entry {
                        net,
                        note: note.to_string(),
                    });
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// The first entry that holds `ip`, if any.
pub fn first_match(nets: &[IpNet], ip: IpAddr) -> Option<usize> {
    let ip = canonical(ip);
    nets.iter().position(|n| n.contains(&ip))
}

/// Whether the list lets `ip` in. An address that cannot be read is never let in.
pub fn allows(nets: &[IpNet], ip: &str) -> bool {
    ip.trim()
        .parse::<IpAddr>()
        .is_ok_and(|ip| first_match(nets, ip).is_some())
}

/// An entry as the owner reads it: a single address without its /32 or /128.
pub fn shown(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// What a save would do to the address the request comes from: `true` when an enabled
/// list leaves it out (the owner would be signed out here).
pub fn locks_out(enabled: bool, nets: &[IpNet], here: &str) -> bool {
    enabled && !allows(nets, here)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| parse_entry(s).unwrap()).collect()
    }

    #[test]
    fn single_addresses_and_ranges_of_both_families_match() {
        let list = nets(&[
            "203.0.113.7",
            "198.51.100.0/24",
            "2001:db8::/32",
            "2001:db8:ffff::1",
        ]);
        assert!(allows(&list, "203.0.113.7"));
        assert!(!allows(&list, "203.0.113.8"));
        assert!(allows(&list, "198.51.100.0"));
        assert!(allows(&list, "198.51.100.255"));
        assert!(!allows(&list, "198.51.101.0"));
        assert!(allows(&list, "2001:db8:1234::9"));
        assert!(allows(&list, "2001:DB8::1"));
        assert!(!allows(&list, "2001:db9::1"));
        assert!(!allows(&list, "not an address"));
        assert!(!allows(&[], "203.0.113.7"));
    }

    #[test]
    fn ipv4_written_as_ipv6_is_ipv4() {
        let list = nets(&["203.0.113.0/24"]);
        assert!(allows(&list, "::ffff:203.0.113.9"));
        assert!(!allows(&list, "::ffff:203.0.114.9"));
        // A mapped entry is its IPv4 form, and matches plain IPv4 clients.
        let mapped = nets(&["::ffff:198.51.100.0/120", "::ffff:192.0.2.1"]);
        assert_eq!(mapped[0].to_string(), "198.51.100.0/24");
        assert_eq!(mapped[1].to_string(), "192.0.2.1/32");
        assert!(allows(&mapped, "198.51.100.77"));
        assert!(allows(&mapped, "192.0.2.1"));
    }

    #[test]
    fn single_addresses_are_shown_bare_and_ranges_whole() {
        let show = |s: &str| shown(&parse_entry(s).unwrap());
        assert_eq!(show("203.0.113.7"), "203.0.113.7");
        assert_eq!(show("2001:db8::1"), "2001:db8::1");
        assert_eq!(show("10.0.0.0/8"), "10.0.0.0/8");
        // A range whose text ends like a single address's prefix stays a range.
        assert_eq!(show("2001:db8::/32"), "2001:db8::/32");
        assert_eq!(show("2001:db8::/128"), "2001:db8::");
        let list = [
            parse_entry("10.0.0.0/8").unwrap(),
            parse_entry("10.1.0.0/16").unwrap(),
        ];
        assert_eq!(first_match(&list, "10.1.2.3".parse().unwrap()), Some(0));
        assert_eq!(
            first_match(&list, "::ffff:10.1.2.3".parse().unwrap()),
            Some(0)
        );
        assert_eq!(first_match(&list, "11.0.0.1".parse().unwrap()), None);
    }

    #[test]
    fn entries_are_read_as_their_networks() {
        assert_eq!(
            parse_entry(" 10.1.2.3/8 ").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_entry("203.0.113.7").unwrap().to_string(),
            "203.0.113.7/32"
        );
        assert_eq!(
            parse_entry("2001:db8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert!(parse_entry("").is_err());
        assert!(parse_entry("10.0.0.0/33").is_err());
        assert!(parse_entry("300.1.1.1").is_err());
        let m = parse_entry("example.com").unwrap_err();
        assert!(m.contains("\"example.com\""), "{m}");
    }

    #[test]
    fn a_list_is_saved_whole_or_not_at_all_with_each_problem_named() {
        let typed = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        let ok = validate(&typed(&[("203.0.113.7", "office"), ("10.0.0.0/8", "")])).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].note, "office");
        let bad = validate(&typed(&[
            ("203.0.113.7", ""),
            ("nope", ""),
            ("203.0.113.7/32", ""),
        ]))
        .unwrap_err();
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].0, 1);
        assert!(bad[0].1.contains("\"nope\""));
        assert!(bad[1].1.contains("twice"));
        let long = "x".repeat(MAX_NOTE + 1);
        assert!(validate(&typed(&[("203.0.113.7", &long)])).is_err());
        let many: Vec<(String, String)> = (0..=MAX_ENTRIES)
            .map(|i| (format!("10.0.{}.{}", i / 250, i % 250), String::new()))
            .collect();
        let e = validate(&many).unwrap_err();
        assert!(e[0].1.contains("At most 100"), "{:?}", e[0]);
        assert!(validate(&many[..MAX_ENTRIES]).is_ok());
    }

    #[test]
    fn a_list_that_leaves_this_address_out_locks_it_out_only_when_on() {
        let list = nets(&["198.51.100.0/24"]);
        assert!(locks_out(true, &list, "203.0.113.7"));
        assert!(!locks_out(true, &list, "198.51.100.7"));
        assert!(!locks_out(false, &list, "203.0.113.7"));
        assert!(locks_out(true, &[], "203.0.113.7"));
    }
}
