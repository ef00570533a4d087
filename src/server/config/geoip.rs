//! `[geoip]`: the location database that places client addresses.
use super::source::Source;
use super::ConfigError;
use std::path::PathBuf;

#[derive(Clone, Debug, Default)]
pub struct Geoip {
    /// The GeoIP City database, if any.
    pub database: Option<PathBuf>,
}

impl Geoip {
    pub(super) fn parse(src: &Source) -> Result<Geoip, ConfigError> {
        let geoip_database = Some(src.string("geoip.database")?.trim().to_string())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        Ok(Geoip {
            database: geoip_database,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn no_database_by_default_and_a_path_when_named() {
        assert!(parse(&[]).unwrap().geoip.database.is_none());
        let c = parse(&[("LATCHKEY_GEOIP_DATABASE", "/var/lib/GeoLite2-City.mmdb")]).unwrap();
        assert_eq!(
            c.geoip.database.as_deref(),
            Some(std::path::Path::new("/var/lib/GeoLite2-City.mmdb"))
        );
    }
}
