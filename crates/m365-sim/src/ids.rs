use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use uuid::Uuid;

/// Graph and Entra only ever show the hyphenated 36-character form.
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36 && Uuid::try_parse(s).is_ok()
}

pub(crate) fn new_guid() -> String {
    Uuid::new_v4().to_string()
}

/// A GUID that is the same on every run for the same inputs, so derived
/// objects (e.g. directory roles) keep their ids across restarts.
pub(crate) fn derived_guid(parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u128::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    let mut bytes = hash.to_be_bytes();
    // RFC 9562 version 8 (custom) with the standard variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes).to_string()
}

/// An unguessable opaque credential (48 random bytes, base64url).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_guids_are_stable_valid_and_distinct() {
        let a = derived_guid(&["tenant", "Backup Operator"]);
        assert_eq!(a, derived_guid(&["tenant", "Backup Operator"]));
        assert!(is_guid(&a));
        assert_ne!(a, derived_guid(&["tenant", "Backup Operators"]));
        assert_ne!(
            derived_guid(&["ab", "c"]),
            derived_guid(&["a", "bc"]),
            "part boundaries matter"
        );
    }

    #[test]
    fn only_hyphenated_guids_are_accepted() {
        assert!(is_guid("62e90394-69f5-4237-9190-012177145e10"));
        assert!(!is_guid("62e9039469f542379190012177145e10"));
        assert!(!is_guid("{62e90394-69f5-4237-9190-012177145e10}"));
        assert!(!is_guid("not-a-guid"));
    }
}
