//! Bearer and refresh tokens: 256 random bits, stored only as SHA-256.
//!
//! A fast hash is right here (unlike passwords): the input is uniformly
//! random, so there is nothing to brute-force.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::store::TokenHash;

pub fn generate_token() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash_token(token: &str) -> TokenHash {
    let digest = Sha256::digest(token.as_bytes());
    TokenHash(digest.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 43);
        assert_eq!(hash_token("abc"), hash_token("abc"));
        assert_eq!(hash_token("abc").0.len(), 64);
        assert_ne!(hash_token("abc"), hash_token("abd"));
    }
}
