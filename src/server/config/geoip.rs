//! `[geoip]`: the location database that places client addresses.
use super::source::Source;
use super::ConfigError;
use std::path::PathBuf;

/// The country-level database the set-up installs (ip-location-db, from npm), from
/// the working directory: used when `geoip.database` is empty and it is there.
pub const INSTALLED: &str =
    "scripts/geoip/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb";

#[derive(Clone, Debug, Default)]
pub struct Geoip {
    /// The location database, if any.
    pub database: Option<PathBuf>,
}

impl Geoip {
    pub(super) fn parse(src: &Source) -> Result<Geoip, ConfigError> {
        let named = Some(src.string("geoip.database")?.trim().to_string())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        Ok(Geoip {
            database: named.or_else(|| {
                let installed = PathBuf::from(INSTALLED);
                installed.is_file().then_some(installed)
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn the_installed_database_by_default_and_a_path_when_named() {
        // Tests run from the crate's folder, where the set-up installs it.
        let installed = std::path::Path::new(super::INSTALLED);
        assert!(
            installed.is_file(),
            "scripts/setup.sh installs {installed:?}"
        );
        assert_eq!(
            parse(&[]).unwrap().geoip.database.as_deref(),
            Some(installed)
        );
        let c = parse(&[("LATCHKEY_GEOIP_DATABASE", "/var/lib/GeoLite2-City.mmdb")]).unwrap();
        assert_eq!(
            c.geoip.database.as_deref(),
            Some(std::path::Path::new("/var/lib/GeoLite2-City.mmdb"))
        );
    }
}
