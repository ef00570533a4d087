//! The password policy: one set of rules for the live checklist in the browser
//! and for the server's check. The server always checks again.
//!
//! Whether a password is a common one, and how strong it is, is known only to the
//! server (the list and zxcvbn stay out of the WebAssembly bundle): the browser learns
//! both with the strength estimate and passes it in, `None` while the answer is on its
//! way.
use serde::{Deserialize, Serialize};

/// Inputs longer than this many bytes are refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_digit: bool,
    pub require_special: bool,
    /// The least zxcvbn score (0–4) accepted; 0 turns the rule off.
    pub min_strength: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            max_length: 128,
            require_uppercase: true,
            require_lowercase: true,
            require_digit: true,
            require_special: true,
            min_strength: 3,
        }
    }
}

/// One rule of the checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    MinLength(usize),
    MaxLength(usize),
    Uppercase,
    Lowercase,
    Digit,
    Special,
    NotCommon,
    /// At least this zxcvbn score.
    Strong(u8),
}

impl Rule {
    pub fn label(&self) -> String {
        match self {
            Rule::MinLength(n) => format!("At least {n} characters"),
            Rule::MaxLength(n) => format!("At most {n} characters"),
            Rule::Uppercase => "An uppercase letter".into(),
            Rule::Lowercase => "A lowercase letter".into(),
            Rule::Digit => "A number".into(),
            Rule::Special => "A special character (symbol, space or emoji)".into(),
            Rule::NotCommon => "Not a commonly used password".into(),
            Rule::Strong(n) => format!(
                "Hard to guess (strength “{}” or better)",
                Strength(*n).label()
            ),
        }
    }

    /// The sentence shown when a submitted password breaks this rule.
    pub fn problem(&self) -> String {
        match self {
            Rule::MinLength(n) => format!("Use at least {n} characters."),
            Rule::MaxLength(n) => format!("Use at most {n} characters."),
            Rule::Uppercase => "Add an uppercase letter.".into(),
            Rule::Lowercase => "Add a lowercase letter.".into(),
            Rule::Digit => "Add a number.".into(),
            Rule::Special => "Add a special character (a symbol, a space or an emoji).".into(),
            Rule::NotCommon => {
                "This password is too common and easy to guess; choose another.".into()
            }
            Rule::Strong(n) => format!(
                "This password is too easy to guess (it rates below “{}”): add a few more words or characters, or avoid names, dates and patterns.",
                Strength(*n).label()
            ),
        }
    }

    /// Whether `password` meets the rule; `estimate` is the server's word on it
    /// (`None`: not known yet, so the rules that need it are not met yet).
    pub fn is_met(&self, password: &str, estimate: Option<PasswordEstimate>) -> bool {
        let chars = password.chars().count();
        match self {
            Rule::MinLength(n) => chars >= *n,
            Rule::MaxLength(n) => chars <= *n,
            Rule::Uppercase => password.chars().any(char::is_uppercase),
            Rule::Lowercase => password.chars().any(char::is_lowercase),
            Rule::Digit => password.chars().any(|c| c.is_numeric()),
            Rule::Special => password.chars().any(|c| !c.is_alphanumeric()),
            Rule::NotCommon => !password.is_empty() && estimate.is_some_and(|e| !e.common),
            Rule::Strong(n) => !password.is_empty() && estimate.is_some_and(|e| e.strength.0 >= *n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCheck {
    pub rule: Rule,
    pub met: bool,
}

impl PasswordPolicy {
    /// The rules the checklist shows, in order. The maximum length is only shown
    /// once it is exceeded (see [`PasswordPolicy::checklist`]).
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules = vec![Rule::MinLength(self.min_length)];
        if self.require_uppercase {
            rules.push(Rule::Uppercase);
        }
        if self.require_lowercase {
            rules.push(Rule::Lowercase);
        }
        if self.require_digit {
            rules.push(Rule::Digit);
        }
        if self.require_special {
            rules.push(Rule::Special);
        }
        rules.push(Rule::NotCommon);
        if self.min_strength > 0 {
            rules.push(Rule::Strong(self.min_strength));
        }
        rules
    }

    pub fn checklist(&self, password: &str, estimate: Option<PasswordEstimate>) -> Vec<RuleCheck> {
        let mut list: Vec<RuleCheck> = self
            .rules()
            .into_iter()
            .map(|rule| RuleCheck {
                rule,
                met: rule.is_met(password, estimate),
            })
            .collect();
        let max = Rule::MaxLength(self.max_length);
        if !max.is_met(password, estimate) {
            list.insert(
                1,
                RuleCheck {
                    rule: max,
                    met: false,
                },
            );
        }
        list
    }

    /// Checks a password against every rule; the error names the first rule broken.
    /// `common`: whether the password is on the server's list of common passwords.
    pub fn validate(
        &self,
        password: &str,
        estimate: PasswordEstimate,
    ) -> Result<(), PasswordProblem> {
        match self.problems(password, estimate).into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Every rule the password breaks, in the checklist's order (so a form can show
    /// them all at once); empty when it is fine.
    pub fn problems(&self, password: &str, estimate: PasswordEstimate) -> Vec<PasswordProblem> {
        if password.is_empty() {
            return vec![PasswordProblem::Empty];
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return vec![PasswordProblem::TooLarge];
        }
        if password.chars().any(char::is_control) {
            return vec![PasswordProblem::ControlCharacters];
        }
        self.checklist(password, Some(estimate))
            .into_iter()
            .filter(|check| !check.met)
            .map(|check| PasswordProblem::Rule(check.rule))
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    Empty,
    TooLarge,
    ControlCharacters,
    Rule(Rule),
}

impl std::fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordProblem::Empty => f.write_str("Enter a password."),
            PasswordProblem::TooLarge => write!(
                f,
                "This password is far too long: use at most {MAX_PASSWORD_BYTES} bytes."
            ),
            PasswordProblem::ControlCharacters => {
                f.write_str("The password contains invisible control characters; remove them.")
            }
            PasswordProblem::Rule(rule) => f.write_str(&rule.problem()),
        }
    }
}

/// How hard a password is to guess, from 0 (trivial) to 4 (very strong), as estimated
/// by zxcvbn on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strength(pub u8);

impl Strength {
    pub fn label(self) -> &'static str {
        match self.0 {
            0 | 1 => "Weak",
            2 => "Fair",
            3 => "Good",
            _ => "Strong",
        }
    }
}

/// The server's answer while a new password is typed: its strength and whether it is
/// one of the common passwords the policy refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordEstimate {
    pub strength: Strength,
    pub common: bool,
}

/// Whether the rotation reminder is due: the password (or, if never changed, the
/// account) is older than `reminder_days`; 0 turns the reminder off.
pub fn rotation_due(changed_or_created_at: i64, now: i64, reminder_days: i64) -> bool {
    reminder_days > 0 && now - changed_or_created_at >= reminder_days * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy::default()
    }

    /// The server's word on a strong password that is on no list.
    fn fine() -> PasswordEstimate {
        PasswordEstimate {
            strength: Strength(4),
            common: false,
        }
    }

    fn listed() -> PasswordEstimate {
        PasswordEstimate {
            strength: Strength(4),
            common: true,
        }
    }

    fn rated(score: u8) -> PasswordEstimate {
        PasswordEstimate {
            strength: Strength(score),
            common: false,
        }
    }

    #[test]
    fn accepts_a_password_that_meets_every_rule() {
        assert_eq!(policy().validate("Tr0ub4dor&3-horse", fine()), Ok(()));
    }

    #[test]
    fn names_the_first_broken_rule() {
        let p = policy();
        assert_eq!(
            p.validate("Sh0rt!", fine()),
            Err(PasswordProblem::Rule(Rule::MinLength(12)))
        );
        assert_eq!(
            p.validate("alllowercase1!", fine()),
            Err(PasswordProblem::Rule(Rule::Uppercase))
        );
        assert_eq!(
            p.validate("ALLUPPERCASE1!", fine()),
            Err(PasswordProblem::Rule(Rule::Lowercase))
        );
        assert_eq!(
            p.validate("NoDigitsHere!!", fine()),
            Err(PasswordProblem::Rule(Rule::Digit))
        );
        assert_eq!(
            p.validate("NoSpecials1234", fine()),
            Err(PasswordProblem::Rule(Rule::Special))
        );
        assert_eq!(p.validate("", fine()), Err(PasswordProblem::Empty));
    }

    #[test]
    fn refuses_common_passwords_even_when_composed() {
        let p = PasswordPolicy {
            min_length: 8,
            ..policy()
        };
        let relaxed = PasswordPolicy {
            min_length: 8,
            require_uppercase: false,
            require_digit: false,
            require_special: false,
            ..policy()
        };
        assert_eq!(
            relaxed.validate("qwertyuiop", listed()),
            Err(PasswordProblem::Rule(Rule::NotCommon))
        );
        assert_eq!(relaxed.validate("qwertyuiop", fine()), Ok(()));
        assert_eq!(p.validate("Zebra-Lamp-42", fine()), Ok(()));
    }

    #[test]
    fn the_common_rule_waits_for_the_servers_answer() {
        let met = |estimate| {
            policy()
                .checklist("Zebra-Lamp-42", estimate)
                .iter()
                .find(|c| c.rule == Rule::NotCommon)
                .unwrap()
                .met
        };
        assert!(!met(None));
        assert!(!met(Some(listed())));
        assert!(met(Some(fine())));
        // Nothing typed: nothing is met, whatever was said before.
        assert!(!Rule::NotCommon.is_met("", Some(fine())));
    }

    #[test]
    fn refuses_passwords_that_rate_below_the_minimum_strength() {
        let p = policy();
        assert_eq!(p.min_strength, 3);
        // "Password123!" meets every composition rule and is still easy to guess.
        assert_eq!(
            p.validate("Password123!", rated(1)),
            Err(PasswordProblem::Rule(Rule::Strong(3)))
        );
        assert_eq!(p.validate("Password123!", rated(3)), Ok(()));
        assert!(Rule::Strong(3).label().contains("Good"));
        let strong = |e| {
            p.checklist("Zebra-Lamp-42", e)
                .iter()
                .find(|c| c.rule == Rule::Strong(3))
                .unwrap()
                .met
        };
        assert!(!strong(None));
        assert!(!strong(Some(rated(2))));
        assert!(strong(Some(rated(4))));
        // 0 turns the rule off.
        let off = PasswordPolicy {
            min_strength: 0,
            ..policy()
        };
        assert!(!off.rules().iter().any(|r| matches!(r, Rule::Strong(_))));
        assert_eq!(off.validate("Password123!", rated(0)), Ok(()));
    }

    #[test]
    fn refuses_more_than_the_maximum_and_more_than_one_kibibyte() {
        let p = policy();
        let long = format!("Aa1!{}", "x".repeat(125));
        assert_eq!(
            p.validate(&long, fine()),
            Err(PasswordProblem::Rule(Rule::MaxLength(128)))
        );
        let huge = "A1!a".repeat(2560); // 10 KiB
        assert_eq!(p.validate(&huge, fine()), Err(PasswordProblem::TooLarge));
        assert!(p
            .checklist(&long, Some(fine()))
            .iter()
            .any(|c| c.rule == Rule::MaxLength(128) && !c.met));
    }

    #[test]
    fn counts_characters_not_bytes_and_allows_unicode() {
        let p = policy();
        // 12 characters, several of them multi-byte: upper, lower, digit, emoji.
        assert_eq!(p.validate("Ünïcödé1🔑🔑🔑🔑", fine()), Ok(()));
        assert_eq!(
            p.validate("Ünï1🔑", fine()),
            Err(PasswordProblem::Rule(Rule::MinLength(12)))
        );
        assert_eq!(p.validate("with space A1 ok", fine()), Ok(()));
    }

    #[test]
    fn lists_every_broken_rule_in_order() {
        let all = policy().problems("abc", rated(0));
        assert_eq!(
            all,
            vec![
                PasswordProblem::Rule(Rule::MinLength(12)),
                PasswordProblem::Rule(Rule::Uppercase),
                PasswordProblem::Rule(Rule::Digit),
                PasswordProblem::Rule(Rule::Special),
                PasswordProblem::Rule(Rule::Strong(3)),
            ]
        );
        assert!(policy().problems("Granite-Kettle-42!", fine()).is_empty());
    }

    #[test]
    fn refuses_control_characters() {
        assert_eq!(
            policy().validate("Abcdefgh1!\u{0007}xyz", fine()),
            Err(PasswordProblem::ControlCharacters)
        );
    }

    #[test]
    fn settings_turn_rules_off() {
        let p = PasswordPolicy {
            min_length: 8,
            max_length: 64,
            require_uppercase: false,
            require_lowercase: true,
            require_digit: true,
            require_special: false,
            min_strength: 3,
        };
        assert_eq!(
            p.rules(),
            vec![
                Rule::MinLength(8),
                Rule::Lowercase,
                Rule::Digit,
                Rule::NotCommon,
                Rule::Strong(3)
            ]
        );
        assert_eq!(p.validate("lowercase7x", fine()), Ok(()));
    }

    #[test]
    fn strength_words() {
        let words: Vec<&str> = (0..=4).map(|s| Strength(s).label()).collect();
        assert_eq!(words, ["Weak", "Weak", "Fair", "Good", "Strong"]);
    }

    #[test]
    fn rotation_reminder_after_the_configured_days_and_never_when_off() {
        let day = 86_400;
        assert!(!rotation_due(0, 181 * day, 182));
        assert!(rotation_due(0, 182 * day, 182));
        assert!(!rotation_due(0, 10_000 * day, 0));
    }

    #[test]
    fn checklist_ticks_rules_as_they_are_met() {
        let list = policy().checklist("abc", Some(rated(0)));
        let met: Vec<bool> = list.iter().map(|c| c.met).collect();
        // min length, upper, lower, digit, special, not common, strong
        assert_eq!(met, vec![false, false, true, false, false, true, false]);
    }
}
