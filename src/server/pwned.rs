//! The optional breached-password check: Have I Been Pwned's range API with
//! k-anonymity. Only the first 5 hexadecimal characters of the password's SHA-1 are
//! sent; the service answers every suffix it knows under that prefix (padded with
//! decoys, `Add-Padding`), and the match is made here.
use sha1::{Digest, Sha1};
use std::sync::OnceLock;
use std::time::Duration;
use url::Url;

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .user_agent("Latchkey breached-password check")
            .build()
            .expect("an HTTP client")
    })
}

/// The SHA-1 of the password in upper-case hex, split after 5 characters.
pub fn prefix_and_suffix(password: &str) -> (String, String) {
    let digest: String = Sha1::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let (prefix, suffix) = digest.split_at(5);
    (prefix.to_string(), suffix.to_string())
}

/// How often the answer for `suffix` says it was seen (decoy lines say 0).
pub fn count_in(answer: &str, suffix: &str) -> u64 {
    answer
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .find(|(s, _)| s.eq_ignore_ascii_case(suffix))
        .and_then(|(_, n)| n.trim().parse().ok())
        .unwrap_or(0)
}

/// How many times the password appears in known breaches; an error when the service
/// could not answer (the caller then lets the password through).
pub async fn breach_count(api: &Url, password: &str) -> Result<u64, String> {
    let (prefix, suffix) = prefix_and_suffix(password);
    let url = api
        .join(&format!("range/{prefix}"))
        .map_err(|e| e.to_string())?;
    let answer = client()
        .get(url)
        .header("Add-Padding", "true")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    Ok(count_in(&answer, &suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_five_characters_of_the_hash_leave_and_the_answer_is_matched_here() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8
        let (prefix, suffix) = prefix_and_suffix("password");
        assert_eq!(prefix, "5BAA6");
        assert_eq!(suffix, "1E4C9B93F3F0682250B6CF8331B7EE68FD8");
        let answer = "0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:10434004\r\n";
        assert_eq!(count_in(answer, &suffix), 10_434_004);
        assert_eq!(
            count_in(answer, "0018A45C4D1DEF81644B54AB7F969B88D65"),
            0,
            "padding"
        );
        assert_eq!(count_in(answer, "FFFF"), 0);
    }
}
