//! Administrator passwords: argon2id hashes, and generated passwords.
//!
//! argon2 needs 19 MiB of working memory per hash. Neither keeping it nor
//! leaving it to the allocator's heap works: a buffer kept per hashing thread
//! stayed resident for good (~40 MB of the backup benchmark's peak RSS after
//! one login), and blocks freed into glibc's heap were kept too (a login flood
//! grew the server past 1 GiB). Each hash's memory is therefore a mapping of
//! its own, unmapped when the hash ends (see [`with_memory`]).

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::distributions::Alphanumeric;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

use crate::error::CoreError;

/// Hashes we accept may not ask for more working memory than this (blocks of
/// 1 KiB): a damaged row must not make a login allocate gigabytes.
const MAX_BLOCKS: usize = 256 * 1024;

/// Bytes at or above which glibc's malloc always gives a block a mapping of its
/// own and unmaps it when freed: its dynamic mmap threshold (which rises after
/// a large block is freed, so that later blocks of that size come from the
/// heap and stay resident) never rises past `DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB
/// on 64-bit systems (mallopt(3)). musl maps every block this large as well.
const ALWAYS_MAPPED_BYTES: usize = 32 * 1024 * 1024;

/// Runs `work` on `blocks` zeroed blocks that are returned to the system when it
/// ends. The workspace forbids `unsafe`, so the blocks cannot be laid over an
/// anonymous mapping made here; instead the vector reserves at least
/// [`ALWAYS_MAPPED_BYTES`], which the allocator serves from a fresh mapping.
/// Only the blocks written become resident (19 MiB for the default
/// parameters); the rest of the reservation is address space, never touched.
fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let reserved = blocks.max(ALWAYS_MAPPED_BYTES.div_ceil(Block::SIZE) + 1);
    let mut memory: Vec<Block> = Vec::with_capacity(reserved);
    memory.resize(blocks, Block::new());
    work(&mut memory)
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("cannot hash a password: {e}"))
}

/// argon2id with the crate's defaults (19 MiB, 2 passes): OWASP's baseline.
pub fn hash_password(password: &SecretString) -> Result<String, CoreError> {
    let params = Params::default();
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_buf = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_buf).map_err(internal)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            raw_salt,
            &mut out,
            memory,
        )
    })
    .map_err(internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(internal)?),
    };
    Ok(phc.to_string())
}

/// A malformed stored hash verifies nothing.
pub fn verify_password(password: &SecretString, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    if params.block_count() > MAX_BLOCKS {
        return false;
    }
    let mut salt_buf = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let hashed = with_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            raw_salt,
            &mut out,
            memory,
        )
    });
    // Output's equality is constant-time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|actual| actual == expected)
}

/// A valid argon2id hash (default parameters) of a random password nobody
/// knows: verified against when the user name is unknown, so a wrong name
/// costs as much as a wrong password.
pub(super) const UNKNOWN_USER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$R+Zhhv9XDU/3Pf7gabaANQ$dITEziNPA0+SyhAZVK3TWR/YZKIN+CU4SNji1l53+pg";

/// 24 letters and digits (~143 bits): strong, and safe to paste into a shell
/// or a form body without quoting.
pub fn generate_password() -> SecretString {
    let s: String = rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    SecretString::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn hash_verifies_only_the_right_password() {
        let pw = SecretString::from("correct horse");
        let hash = hash_password(&pw).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.contains("correct horse"));
        assert!(verify_password(&pw, &hash));
        assert!(!verify_password(&SecretString::from("wrong"), &hash));
        assert!(!verify_password(&pw, "not a phc string"));
    }

    #[test]
    fn hashes_are_standard_phc_strings() {
        // What we write, the reference implementation verifies…
        let hash = hash_password(&SecretString::from("interop")).unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"interop", &parsed)
            .is_ok());
        // …and what it writes, we verify.
        let theirs = {
            use argon2::PasswordHasher;
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::default()
                .hash_password(b"interop", &salt)
                .unwrap()
                .to_string()
        };
        assert!(verify_password(&SecretString::from("interop"), &theirs));
    }

    #[test]
    fn the_unknown_user_hash_is_a_real_hash_of_nothing_guessable() {
        let parsed = PasswordHash::new(UNKNOWN_USER_HASH).unwrap();
        let params = Params::try_from(&parsed).unwrap();
        let defaults = Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (defaults.m_cost(), defaults.t_cost(), defaults.p_cost())
        );
        assert!(!verify_password(&SecretString::from(""), UNKNOWN_USER_HASH));
    }

    #[test]
    fn oversized_parameters_are_refused_without_allocating() {
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$R+Zhhv9XDU/3Pf7gabaANQ$dITEziNPA0+SyhAZVK3TWR/YZKIN+CU4SNji1l53+pg";
        assert!(!verify_password(&SecretString::from("x"), huge));
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.expose_secret().len(), 24);
        assert!(a.expose_secret().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose_secret(), b.expose_secret());
    }
}
