//! `[log]`: how long the security log keeps its events.
use super::source::Source;
use super::ConfigError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Log {
    /// Security-log events older than this are removed.
    pub retention_secs: i64,
}

impl Log {
    pub(super) fn parse(src: &Source) -> Result<Log, ConfigError> {
        let log_retention_secs = src.int("log.retention_days", 1, 36500)? * 24 * 3600;
        Ok(Log {
            retention_secs: log_retention_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn retention_is_in_days() {
        assert_eq!(parse(&[]).unwrap().log.retention_secs, 400 * 24 * 3600);
        let e = parse(&[("LATCHKEY_LOG_RETENTION_DAYS", "0")]).unwrap_err();
        assert!(e.0.contains("log.retention_days"), "{e}");
    }
}
