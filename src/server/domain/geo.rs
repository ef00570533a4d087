//! Approximate location of a client address, for the Sessions page and the security
//! log: "City, Country" from a MaxMind GeoLite2/GeoIP2 City database (`geoip.database`),
//! "Local network" for loopback and private ranges, "Unknown location" otherwise.
use std::net::IpAddr;

pub const LOCAL: &str = "Local network";
pub const UNKNOWN: &str = "Unknown location";

/// The City database, when the operator named one.
pub struct Geo {
    reader: Option<maxminddb::Reader<Vec<u8>>>,
}

impl Geo {
    /// No database: every public address is an "Unknown location".
    pub fn none() -> Geo {
        Geo { reader: None }
    }

    /// Reads the database at `path` (the whole file, once, at start).
    pub fn open(path: &std::path::Path) -> Result<Geo, String> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Geo {
            reader: Some(reader),
        })
    }

    /// The database as bytes (tests write a small one).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Geo, String> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|e| e.to_string())?;
        Ok(Geo {
            reader: Some(reader),
        })
    }

    /// Where `ip` (as the log and the sessions store it) is, in words.
    pub fn locate(&self, ip: &str) -> String {
        let Ok(addr) = ip.trim().parse::<IpAddr>() else {
            return UNKNOWN.into();
        };
        if is_local(addr) {
            return LOCAL.into();
        }
        let Some(reader) = &self.reader else {
            return UNKNOWN.into();
        };
        let found = reader
            .lookup(addr)
            .ok()
            .and_then(|r| r.decode::<maxminddb::geoip2::City>().ok().flatten());
        match found {
            Some(city) => place(city.city.names.english, city.country.names.english),
            None => UNKNOWN.into(),
        }
    }
}

/// "City, Country", or what of it the database knows.
pub fn place(city: Option<&str>, country: Option<&str>) -> String {
    fn clean(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    match (clean(city), clean(country)) {
        (Some(city), Some(country)) => format!("{city}, {country}"),
        (None, Some(country)) => country.to_string(),
        (Some(city), None) => city.to_string(),
        (None, None) => UNKNOWN.into(),
    }
}

/// Loopback, private (RFC 1918, unique local), link-local, shared (CGNAT) and
/// unspecified addresses: nowhere a database could place.
pub fn is_local(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ranges_are_the_local_network() {
        let geo = Geo::none();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "169.254.3.3",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.2",
        ] {
            assert_eq!(geo.locate(ip), LOCAL, "{ip}");
        }
    }

    #[test]
    fn without_a_database_or_an_address_the_location_is_unknown() {
        let geo = Geo::none();
        assert_eq!(geo.locate("81.2.69.142"), UNKNOWN);
        assert_eq!(geo.locate("2001:db8::1"), UNKNOWN);
        assert_eq!(geo.locate("not an address"), UNKNOWN);
        assert_eq!(geo.locate(""), UNKNOWN);
        assert!(!is_local("100.128.0.1".parse().unwrap()));
        assert!(!is_local("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn places_name_what_is_known() {
        assert_eq!(
            place(Some("London"), Some("United Kingdom")),
            "London, United Kingdom"
        );
        assert_eq!(place(None, Some("Japan")), "Japan");
        assert_eq!(place(Some(" "), Some("Japan")), "Japan");
        assert_eq!(place(Some("Atlantis"), None), "Atlantis");
        assert_eq!(place(None, None), UNKNOWN);
    }
}
