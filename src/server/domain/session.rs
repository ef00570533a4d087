//! Session lifetime rules.

/// How often `last_seen` is written back (a write on every request would be wasted work).
pub const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    Live,
    IdleExpired,
    AbsoluteExpired,
}

pub fn liveness(
    created_at: i64,
    last_seen_at: i64,
    now: i64,
    idle_secs: i64,
    absolute_secs: i64,
) -> Liveness {
    if now >= created_at + absolute_secs {
        Liveness::AbsoluteExpired
    } else if now >= last_seen_at + idle_secs {
        Liveness::IdleExpired
    } else {
        Liveness::Live
    }
}

pub fn needs_touch(last_seen_at: i64, now: i64) -> bool {
    now - last_seen_at >= TOUCH_EVERY_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_absolute_expiry() {
        let (idle, abs) = (1800, 43200);
        assert_eq!(liveness(0, 0, 1799, idle, abs), Liveness::Live);
        assert_eq!(liveness(0, 0, 1800, idle, abs), Liveness::IdleExpired);
        // kept alive by activity, still ends at the absolute limit
        assert_eq!(liveness(0, 43000, 43199, idle, abs), Liveness::Live);
        assert_eq!(
            liveness(0, 43100, 43200, idle, abs),
            Liveness::AbsoluteExpired
        );
    }

    #[test]
    fn touches_at_most_once_a_minute() {
        assert!(!needs_touch(100, 159));
        assert!(needs_touch(100, 160));
    }
}
