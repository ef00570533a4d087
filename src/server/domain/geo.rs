//! Approximate location of a client address, for the Sessions page, the security log
//! and the notices: "City, Country" from a MaxMind GeoLite2/GeoIP2 City database,
//! "Country" from a country database (MaxMind's, or the country-level database the
//! set-up installs, whose records hold only `country_code`: the name is then the ISO
//! 3166 English short name), "Local network" for loopback and private ranges,
//! "Unknown location" otherwise.
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const LOCAL: &str = "Local network";
pub const UNKNOWN: &str = "Unknown location";

/// Where an address is, as far as the database knows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: Option<String>,
    pub country: Option<String>,
}

impl Place {
    /// What "a new location" compares: the country, or the city in its country when
    /// the database knows cities; `None` when nothing is known.
    pub fn key(&self) -> Option<String> {
        let cc = self.country_code.clone().or_else(|| self.country.clone())?;
        Some(match &self.city {
            Some(city) => format!("{cc}/{city}"),
            None => cc,
        })
    }

    /// "City, Country", or what of it is known.
    pub fn describe(&self) -> String {
        place(self.city.as_deref(), self.country.as_deref())
    }
}

/// The fields of a record that every supported database has some of: MaxMind's City
/// and Country (`city.names.en`, `country.iso_code`, `country.names.en`) and
/// ip-location-db's country files (`country_code`).
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    city: Option<Named<'a>>,
    #[serde(borrow)]
    country: Option<Country<'a>>,
    country_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    names: Option<BTreeMap<&'a str, &'a str>>,
}

#[derive(Deserialize)]
struct Country<'a> {
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<BTreeMap<&'a str, &'a str>>,
}

fn english<'a>(names: &Option<BTreeMap<&'a str, &'a str>>) -> Option<String> {
    names
        .as_ref()
        .and_then(|n| n.get("en"))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The English short name of an ISO 3166-1 alpha-2 code (the code itself when the
/// standard has none, as for XK).
pub fn country_name(code: &str) -> String {
    rust_iso3166::from_alpha2(&code.to_ascii_uppercase())
        .map(|c| c.name.to_string())
        .unwrap_or_else(|| code.to_ascii_uppercase())
}

/// What [`Geo::lookup`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Located {
    Local,
    Unknown,
    At(Place),
}

/// The location database, when there is one.
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

    /// Where `ip` (as the log and the sessions store it) is.
    pub fn lookup(&self, ip: &str) -> Located {
        let Ok(addr) = ip.trim().parse::<IpAddr>() else {
            return Located::Unknown;
        };
        // An IPv4 address written as IPv6 (::ffff:a.b.c.d) is looked up as IPv4: the
        // databases hold IPv4 networks only under their IPv4 form.
        let addr = addr.to_canonical();
        if is_local(addr) {
            return Located::Local;
        }
        let Some(reader) = &self.reader else {
            return Located::Unknown;
        };
        let Some(r) = reader
            .lookup(addr)
            .ok()
            .and_then(|r| r.decode::<Record>().ok().flatten())
        else {
            return Located::Unknown;
        };
        let code = r
            .country
            .as_ref()
            .and_then(|c| c.iso_code)
            .or(r.country_code)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase);
        let country = r
            .country
            .as_ref()
            .and_then(|c| english(&c.names))
            .or_else(|| code.as_deref().map(country_name));
        let city = r.city.as_ref().and_then(|c| english(&c.names));
        if code.is_none() && country.is_none() && city.is_none() {
            return Located::Unknown;
        }
        Located::At(Place {
            city,
            country_code: code,
            country,
        })
    }

    /// Where `ip` is, in words.
    pub fn locate(&self, ip: &str) -> String {
        match self.lookup(ip) {
            Located::Local => LOCAL.into(),
            Located::Unknown => UNKNOWN.into(),
            Located::At(p) => p.describe(),
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
    fn country_codes_get_their_english_names_and_unknown_codes_stay_codes() {
        assert_eq!(country_name("JP"), "Japan");
        assert_eq!(country_name("de"), "Germany");
        assert_eq!(country_name("XK"), "XK");
    }

    #[test]
    fn a_place_s_key_is_its_country_or_its_city_in_its_country() {
        let jp = Place {
            city: None,
            country_code: Some("JP".into()),
            country: Some("Japan".into()),
        };
        assert_eq!(jp.key().as_deref(), Some("JP"));
        assert_eq!(jp.describe(), "Japan");
        let tokyo = Place {
            city: Some("Tokyo".into()),
            ..jp.clone()
        };
        assert_eq!(tokyo.key().as_deref(), Some("JP/Tokyo"));
        assert_eq!(tokyo.describe(), "Tokyo, Japan");
        assert_eq!(Place::default().key(), None);
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
