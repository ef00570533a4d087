//! Who the client is when Latchkey sits behind reverse proxies. Only a request that
//! arrives from a trusted proxy has its forwarding header read, and then the client is
//! the right-most address in it that is not itself a trusted proxy: everything to the
//! left of that was written by the client and can be forged.
use ipnet::IpNet;
use std::net::IpAddr;

/// Which header the trusted proxies write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx, HAProxy, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The client's address, from the connecting peer and the request's headers.
pub fn client_address(
    peer: IpAddr,
    headers: &http::HeaderMap,
    trusted: &[IpNet],
    header: ForwardedHeader,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let hops = match header {
        ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
        ForwardedHeader::Forwarded => forwarded(headers),
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = ip.to_canonical();
                if !is_trusted(client, trusted) {
                    return client;
                }
            }
            // "unknown", an obfuscated name or garbage: nothing further left can be
            // believed, so the last proxy we trust is all we know.
            None => return client,
        }
    }
    client
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

fn header_values<'a>(headers: &'a http::HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| v.to_str().ok().into_iter().flat_map(|s| s.split(',')))
}

fn x_forwarded_for(headers: &http::HeaderMap) -> Vec<Option<IpAddr>> {
    header_values(headers, "x-forwarded-for")
        .map(|s| parse_node(s.trim()))
        .collect()
}

fn forwarded(headers: &http::HeaderMap) -> Vec<Option<IpAddr>> {
    header_values(headers, "forwarded")
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
        })
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:5678`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The group an address is throttled in: itself for IPv4, its /64 for IPv6 (one
/// subscriber usually holds a whole /64, so single addresses cost an attacker nothing).
pub fn throttle_group(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=1.1.1.1")]);
        assert_eq!(
            client_address(ip("203.0.113.7"), &h, &[], XFF),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("203.0.113.7"), &h, &nets(&["10.0.0.0/8"]), XFF),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        // The client forged "6.6.6.6"; the proxy appended the real address.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4")]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &h, &trusted, XFF),
            ip("198.51.100.4")
        );
        // Two proxies in a row, and the header split over two lines.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.4"),
            ("x-forwarded-for", "10.0.0.9"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &h, &trusted, XFF),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn no_header_or_garbage_leaves_the_last_trusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers(&[]), &trusted, XFF),
            ip("10.0.0.2")
        );
        let h = headers(&[("x-forwarded-for", "6.6.6.6, not-an-address")]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &h, &trusted, XFF),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let trusted = nets(&["127.0.0.1/32"]);
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.4"),
            ("forwarded", "for=192.0.2.9"),
        ]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, XFF),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, ForwardedHeader::Forwarded),
            ip("192.0.2.9")
        );
    }

    #[test]
    fn forwarded_accepts_quotes_ports_and_ipv6() {
        let trusted = nets(&["::1/128"]);
        let h = headers(&[(
            "forwarded",
            r#"for=6.6.6.6;proto=https, For="[2001:db8:cafe::17]:4711";by=proxy"#,
        )]);
        assert_eq!(
            client_address(ip("::1"), &h, &trusted, ForwardedHeader::Forwarded),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(
            client_address(ip("::1"), &h, &trusted, ForwardedHeader::Forwarded),
            ip("::1")
        );
        assert_eq!(parse_node("192.0.2.1:8080"), Some(ip("192.0.2.1")));
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.4")]);
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &h, &trusted, XFF),
            ip("198.51.100.4")
        );
        assert_eq!(throttle_group(ip("::ffff:198.51.100.4")), "198.51.100.4");
    }

    #[test]
    fn ipv6_is_throttled_by_its_64() {
        assert_eq!(
            throttle_group(ip("2001:db8:1:2:aaaa::1")),
            throttle_group(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            throttle_group(ip("2001:db8:1:2::1")),
            throttle_group(ip("2001:db8:1:3::1"))
        );
        assert_eq!(throttle_group(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_eq!(throttle_group(ip("192.0.2.1")), "192.0.2.1");
    }
}
