//! Throttling of secret checks: growing delays after repeated failures, capped, and
//! forgotten after a quiet hour, so that nobody can lock an owner out for good.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before any delay.
    pub free: u32,
    /// The first delay; it doubles with each further failure.
    pub base_secs: i64,
    /// The longest delay.
    pub max_secs: i64,
    /// A quiet period after which the failures are forgotten.
    pub forget_after_secs: i64,
}

/// Failed sign-ins for one account from one IP address.
pub const SIGN_IN_ACCOUNT_IP: Policy = Policy {
    free: 5,
    base_secs: 2,
    max_secs: 15 * 60,
    forget_after_secs: 3600,
};
/// Failed sign-ins for one account from anywhere: a cap that keeps an account under
/// 100 failures an hour (ASVS 2.2.1) while an attacker elsewhere can delay the owner
/// by at most a minute.
pub const SIGN_IN_ACCOUNT: Policy = Policy {
    free: 20,
    base_secs: 1,
    max_secs: 60,
    forget_after_secs: 3600,
};
/// Failed sign-ins from one IP address, whatever the account (credential stuffing).
pub const SIGN_IN_IP: Policy = Policy {
    free: 50,
    base_secs: 1,
    max_secs: 10 * 60,
    forget_after_secs: 3600,
};
/// Passkey sign-ins begun from one address (each keeps a ceremony for 5 minutes): a
/// page load or a click each, so a person never meets it; a script filling the table
/// does.
pub const PASSKEY_CEREMONIES_IP: Policy = Policy {
    free: 60,
    base_secs: 1,
    max_secs: 60,
    forget_after_secs: 600,
};
/// Unknown access tokens (well-formed, with a valid checksum, but not ours) from one
/// address: someone trying tokens is slowed long before it could matter. Revoked and
/// expired tokens are real ones and are not counted.
pub const TOKEN_CHECKS_IP: Policy = Policy {
    free: 20,
    base_secs: 1,
    max_secs: 10 * 60,
    forget_after_secs: 3600,
};
/// Verification emails for one account: one a minute, then slower.
pub const RESEND_VERIFICATION: Policy = Policy {
    free: 1,
    base_secs: 60,
    max_secs: 3600,
    forget_after_secs: 24 * 3600,
};

/// Reset links asked for one account: three, then one every few minutes at most.
pub const RESET_REQUESTS_ACCOUNT: Policy = Policy {
    free: 3,
    base_secs: 120,
    max_secs: 3600,
    forget_after_secs: 3600,
};
/// Reset links asked from one address, whatever the account.
pub const RESET_REQUESTS_IP: Policy = Policy {
    free: 20,
    base_secs: 60,
    max_secs: 3600,
    forget_after_secs: 3600,
};
/// Sign-ups from one address: `free` an hour (a setting, so that an office behind one
/// NAT can sign up its people), then a wait, so a script cannot create accounts (and
/// hash passwords, and send mail) without end.
pub const fn sign_up_ip(free: u32) -> Policy {
    Policy {
        free,
        base_secs: 60,
        max_secs: 3600,
        forget_after_secs: 3600,
    }
}
/// Sign-ups for one email address (taken or not, so the answer tells nothing).
pub const SIGN_UP_EMAIL: Policy = Policy {
    free: 3,
    base_secs: 300,
    max_secs: 3600,
    forget_after_secs: 3600,
};
/// Codes sent (email, SMS) for one account: a few in a row, then one every few
/// minutes; below the mails-per-recipient cap, so the code's sender answers first.
pub const CODE_SENDS_ACCOUNT: Policy = Policy {
    free: 8,
    base_secs: 60,
    max_secs: 3600,
    forget_after_secs: 3600,
};
/// Codes sent at the request of one address, whatever the account.
pub const CODE_SENDS_IP: Policy = Policy {
    free: 60,
    base_secs: 60,
    max_secs: 3600,
    forget_after_secs: 3600,
};
/// Mails to one recipient: about ten an hour at most, whatever asks for them.
pub const MAILS_PER_RECIPIENT: Policy = Policy {
    free: 10,
    base_secs: 600,
    max_secs: 3600,
    forget_after_secs: 3600,
};
/// Strength estimates from one address: the checklist asks once per pause in typing.
pub const PASSWORD_STRENGTH_IP: Policy = Policy {
    free: 300,
    base_secs: 1,
    max_secs: 60,
    forget_after_secs: 600,
};

/// Wrong second-factor codes for one account over a day, whatever the address and the
/// kind of code: the short-window limits allow about a hundred an hour; this keeps a
/// day to a few dozen beyond which each try waits hours. Someone with the password
/// then has about one chance in ten thousand a day of hitting a 6-digit code.
pub const SECOND_FACTOR_DAY: Policy = Policy {
    free: 30,
    base_secs: 3600,
    max_secs: 6 * 3600,
    forget_after_secs: 24 * 3600,
};

/// The whole server's text messages over `window_secs`: `max` of them, then one per
/// window until a quiet window has passed.
pub const fn sms_budget(max: u32, window_secs: i64) -> Policy {
    Policy {
        free: max,
        base_secs: window_secs,
        max_secs: window_secs,
        forget_after_secs: window_secs,
    }
}

/// Security-log exports of one account: each reads the whole log.
pub const EXPORTS_ACCOUNT: Policy = Policy {
    free: 10,
    base_secs: 30,
    max_secs: 600,
    forget_after_secs: 3600,
};

/// Mails telling an owner that someone entered the right password and then wrong
/// codes at the second step: one a day.
pub const SECOND_STEP_ALERTS: Policy = Policy {
    free: 1,
    base_secs: 24 * 3600,
    max_secs: 24 * 3600,
    forget_after_secs: 24 * 3600,
};

/// The longest any policy remembers failures: older counters can be removed.
pub const LONGEST_MEMORY_SECS: i64 = 24 * 3600;

/// What is remembered for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub failures: u32,
    pub last_failure: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Refuse for this many more seconds.
    Wait(i64),
}

impl Policy {
    fn current(&self, state: Option<State>, now: i64) -> State {
        match state {
            Some(s) if now - s.last_failure < self.forget_after_secs => s,
            _ => State::default(),
        }
    }

    /// The delay owed after `failures` failures.
    pub fn delay_after(&self, failures: u32) -> i64 {
        if failures < self.free {
            return 0;
        }
        let doublings = (failures - self.free).min(40);
        self.base_secs
            .saturating_mul(1i64 << doublings)
            .min(self.max_secs)
    }

    pub fn decide(&self, state: Option<State>, now: i64) -> Decision {
        let s = self.current(state, now);
        let ready_at = s.last_failure + self.delay_after(s.failures);
        if s.failures < self.free || now >= ready_at {
            Decision::Allow
        } else {
            Decision::Wait(ready_at - now)
        }
    }

    /// The state to keep after one more failure (or one more use, for send limits).
    pub fn record_failure(&self, state: Option<State>, now: i64) -> State {
        let s = self.current(state, now);
        State {
            failures: s.failures.saturating_add(1),
            last_failure: now,
        }
    }
}

/// The strictest of several decisions.
pub fn combine(decisions: &[Decision]) -> Decision {
    decisions
        .iter()
        .fold(Decision::Allow, |acc, d| match (acc, d) {
            (Decision::Wait(a), Decision::Wait(b)) => Decision::Wait(a.max(*b)),
            (Decision::Wait(a), Decision::Allow) => Decision::Wait(a),
            (Decision::Allow, d) => *d,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        free: 3,
        base_secs: 2,
        max_secs: 30,
        forget_after_secs: 3600,
    };

    fn fail_n(p: &Policy, n: u32, now: i64) -> Option<State> {
        let mut s = None;
        for _ in 0..n {
            s = Some(p.record_failure(s, now));
        }
        s
    }

    #[test]
    fn allows_the_free_failures_without_delay() {
        assert_eq!(P.decide(None, 1000), Decision::Allow);
        assert_eq!(P.decide(fail_n(&P, 2, 1000), 1000), Decision::Allow);
    }

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(P.delay_after(3), 2);
        assert_eq!(P.delay_after(4), 4);
        assert_eq!(P.delay_after(5), 8);
        assert_eq!(P.delay_after(7), 30);
        assert_eq!(P.delay_after(1000), 30);
        let s = fail_n(&P, 4, 1000);
        assert_eq!(P.decide(s, 1000), Decision::Wait(4));
        assert_eq!(P.decide(s, 1003), Decision::Wait(1));
        assert_eq!(P.decide(s, 1004), Decision::Allow);
    }

    #[test]
    fn no_permanent_lock_the_wait_never_exceeds_the_cap() {
        let s = fail_n(&P, 10_000, 5000);
        assert_eq!(P.decide(s, 5000), Decision::Wait(30));
        assert_eq!(P.decide(s, 5030), Decision::Allow);
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_period() {
        let s = fail_n(&P, 6, 1000);
        assert!(matches!(P.decide(s, 1001), Decision::Wait(_)));
        assert_eq!(P.decide(s, 1000 + 3600), Decision::Allow);
        let after = P.record_failure(s, 1000 + 3600);
        assert_eq!(after.failures, 1);
    }

    #[test]
    fn sign_in_policies_keep_an_account_under_100_failures_an_hour() {
        // An attacker retrying the moment each wait ends.
        for p in [SIGN_IN_ACCOUNT, SIGN_IN_ACCOUNT_IP] {
            let mut state = None;
            let mut now = 0;
            let mut attempts = 0;
            while now < 3600 {
                match p.decide(state, now) {
                    Decision::Allow => {
                        attempts += 1;
                        state = Some(p.record_failure(state, now));
                    }
                    Decision::Wait(w) => now += w,
                }
            }
            assert!(attempts < 100, "{attempts} attempts in an hour under {p:?}");
        }
        const { assert!(SIGN_IN_ACCOUNT.max_secs <= 60) };
    }

    #[test]
    fn combine_takes_the_longest_wait() {
        assert_eq!(
            combine(&[Decision::Allow, Decision::Allow]),
            Decision::Allow
        );
        assert_eq!(
            combine(&[Decision::Wait(3), Decision::Allow, Decision::Wait(9)]),
            Decision::Wait(9)
        );
    }

    #[test]
    fn no_policy_remembers_longer_than_the_pruning_horizon() {
        for p in [
            SIGN_IN_ACCOUNT_IP,
            SIGN_IN_ACCOUNT,
            SIGN_IN_IP,
            RESEND_VERIFICATION,
            RESET_REQUESTS_ACCOUNT,
            RESET_REQUESTS_IP,
            sign_up_ip(10),
            sms_budget(100, 3600),
            sms_budget(500, 24 * 3600),
            SIGN_UP_EMAIL,
            MAILS_PER_RECIPIENT,
            PASSWORD_STRENGTH_IP,
            SECOND_FACTOR_DAY,
            SECOND_STEP_ALERTS,
            EXPORTS_ACCOUNT,
        ] {
            assert!(p.forget_after_secs <= LONGEST_MEMORY_SECS, "{p:?}");
        }
    }

    #[test]
    fn a_recipient_gets_at_most_a_dozen_mails_an_hour() {
        let p = MAILS_PER_RECIPIENT;
        let (mut state, mut now, mut sent) = (None, 0, 0);
        while now < 3600 {
            match p.decide(state, now) {
                Decision::Allow => {
                    sent += 1;
                    state = Some(p.record_failure(state, now));
                }
                Decision::Wait(w) => now += w,
            }
        }
        assert!((10..=12).contains(&sent), "{sent} mails in an hour");
    }

    #[test]
    fn a_day_allows_only_a_few_dozen_second_factor_guesses() {
        let p = SECOND_FACTOR_DAY;
        let (mut state, mut now, mut guesses) = (None, 0, 0);
        while now < 24 * 3600 {
            match p.decide(state, now) {
                Decision::Allow => {
                    guesses += 1;
                    state = Some(p.record_failure(state, now));
                }
                Decision::Wait(w) => now += w,
            }
        }
        assert!(guesses <= 40, "{guesses} guesses a day");
        // Three codes are accepted at any time (the window of ±1 step).
        let chance = guesses as f64 * 3.0 / 1e6;
        assert!(chance < 1.5e-4, "{chance}");
    }

    #[test]
    fn resend_allows_one_a_minute() {
        let s = Some(RESEND_VERIFICATION.record_failure(None, 0));
        assert_eq!(RESEND_VERIFICATION.decide(s, 30), Decision::Wait(30));
        assert_eq!(RESEND_VERIFICATION.decide(s, 60), Decision::Allow);
    }
}
