//! Secrets at rest: Microsoft 365 passwords are sealed with XChaCha20-Poly1305
//! under the installation's master key before they reach any store.
//!
//! The associated data binds each ciphertext to the row and field it belongs
//! to, so a sealed password copied into another organization's row does not
//! open there.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// Format version of a sealed blob, so the algorithm can change later.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
pub const KEY_LEN: usize = 32;

/// The 256-bit key that seals every secret of an installation.
pub struct MasterKey([u8; KEY_LEN]);

impl MasterKey {
    pub fn generate() -> Self {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// Parses the base64 form used in the key file and `OPENVBO_MASTER_KEY`.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKeyEncoding)?;
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKeyEncoding)?;
        Ok(Self(key))
    }

    pub fn to_base64(&self) -> SecretString {
        SecretString::from(B64.encode(self.0))
    }

    /// The raw key, for the repository engine: it wraps each repository's key with it,
    /// so `openvbo repo --key-file master.key` opens a repository without the server.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

/// A secret as stored: version, nonce and ciphertext. Opaque to everyone but
/// the [`Sealer`].
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Vec<u8>);

impl SealedSecret {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({} bytes)", self.0.len())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the master key must be 32 bytes encoded as base64")]
    BadKeyEncoding,
    #[error("a secret could not be sealed")]
    CannotSeal,
    #[error(
        "a sealed secret could not be opened: it is damaged or was sealed under another master key"
    )]
    CannotOpen,
}

/// Seals and opens secrets under the master key.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub fn new(key: &MasterKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// `context` names where the secret lives (e.g. `org/<id>/exchange/password`).
    pub fn seal(&self, secret: &SecretString, context: &str) -> Result<SealedSecret, CryptoError> {
        self.seal_bytes(secret.expose_secret().as_bytes(), context)
    }

    fn seal_bytes(&self, plaintext: &[u8], context: &str) -> Result<SealedSecret, CryptoError> {
        // 192-bit random nonces: collisions are not a concern at any volume.
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| CryptoError::CannotSeal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(SealedSecret(out))
    }

    pub fn open(&self, sealed: &SealedSecret, context: &str) -> Result<SecretString, CryptoError> {
        let bytes = self.open_bytes(sealed, context)?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| CryptoError::CannotOpen)
    }

    fn open_bytes(&self, sealed: &SealedSecret, context: &str) -> Result<Vec<u8>, CryptoError> {
        let data = &sealed.0;
        let Some((&VERSION, rest)) = data.split_first() else {
            return Err(CryptoError::CannotOpen);
        };
        let Some((nonce, ciphertext)) = rest.split_at_checked(NONCE_LEN) else {
            return Err(CryptoError::CannotOpen);
        };
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::CannotOpen)
    }

    /// A value sealed once per data dir, so a server started with a different
    /// master key refuses to run instead of failing on every organization.
    pub fn key_check(&self) -> Result<SealedSecret, CryptoError> {
        self.seal_bytes(KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT)
    }

    pub fn verify_key_check(&self, sealed: &SealedSecret) -> bool {
        self.open_bytes(sealed, KEY_CHECK_CONTEXT)
            .is_ok_and(|p| p == KEY_CHECK_PLAINTEXT)
    }
}

const KEY_CHECK_PLAINTEXT: &[u8] = b"openvbo master key check";
const KEY_CHECK_CONTEXT: &str = "openvbo/key-check";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_no_plaintext_in_blob() {
        let sealer = Sealer::new(&MasterKey::generate());
        let secret = SecretString::from("P@ssw0rd-very-secret");
        let sealed = sealer.seal(&secret, "org/1/exchange").unwrap();
        let haystack = String::from_utf8_lossy(sealed.as_bytes());
        assert!(!haystack.contains("very-secret"));
        let opened = sealer.open(&sealed, "org/1/exchange").unwrap();
        assert_eq!(opened.expose_secret(), "P@ssw0rd-very-secret");
    }

    #[test]
    fn wrong_context_or_key_or_tampering_is_refused() {
        let key = MasterKey::generate();
        let sealer = Sealer::new(&key);
        let sealed = sealer
            .seal(&SecretString::from("x"), "org/1/exchange")
            .unwrap();
        assert_eq!(
            sealer.open(&sealed, "org/2/exchange").unwrap_err(),
            CryptoError::CannotOpen
        );
        let other = Sealer::new(&MasterKey::generate());
        assert!(other.open(&sealed, "org/1/exchange").is_err());
        let mut bytes = sealed.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(sealer
            .open(&SealedSecret::from_bytes(bytes), "org/1/exchange")
            .is_err());
        assert!(sealer
            .open(&SealedSecret::from_bytes(vec![1, 2, 3]), "org/1/exchange")
            .is_err());
    }

    #[test]
    fn key_check_detects_a_different_key() {
        let key = MasterKey::generate();
        let check = Sealer::new(&key).key_check().unwrap();
        let same = MasterKey::from_base64(key.to_base64().expose_secret()).unwrap();
        assert!(Sealer::new(&same).verify_key_check(&check));
        assert!(!Sealer::new(&MasterKey::generate()).verify_key_check(&check));
    }

    #[test]
    fn key_encoding_is_checked() {
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").unwrap_err(),
            CryptoError::BadKeyEncoding
        );
        assert!(MasterKey::from_base64("not base64 !!").is_err());
    }
}
