//! Keys and sealing. A random 32-byte repository secret is the root of everything; it is
//! stored only wrapped (by the server's master key, and optionally by a password through
//! Argon2id). From it we derive, with BLAKE3's KDF mode, independent keys for chunk ids,
//! for sealing, and the seed of the chunker's gear table (so chunk boundaries, too, depend
//! on a secret).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::ChunkId;

pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext.
pub(crate) const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// A 32-byte key held by the caller (the server's master key, or a key file). Its bytes are
/// never formatted.
#[derive(Clone)]
pub struct WrappingKey(pub(crate) [u8; 32]);

impl WrappingKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key file holds 32 raw bytes, 64 hex digits, or the base64 of 32 bytes (the server's
    /// `master.key`), with optional surrounding whitespace.
    pub fn from_file_contents(data: &[u8]) -> Result<Self> {
        if data.len() == 32 {
            let mut k = [0u8; 32];
            k.copy_from_slice(data);
            return Ok(Self(k));
        }
        let text = std::str::from_utf8(data).map(str::trim).unwrap_or("");
        let mut k = [0u8; 32];
        if hex::decode_to_slice(text, &mut k).is_ok() {
            return Ok(Self(k));
        }
        use base64::Engine as _;
        match b64().decode(text) {
            Ok(bytes) if bytes.len() == 32 => {
                k.copy_from_slice(&bytes);
                Ok(Self(k))
            }
            _ => Err(RepoError::invalid(
                "the key file must hold 32 bytes, 64 hex digits, or base64 of 32 bytes (the server's master.key)",
            )),
        }
    }
}

impl std::fmt::Debug for WrappingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WrappingKey(..)")
    }
}

/// The keys derived from the repository secret.
pub(crate) struct RepoKeys {
    id_key: [u8; 32],
    seal: XChaCha20Poly1305,
    pub(crate) gear_seed: u64,
    pub(crate) name_key: [u8; 32],
}

impl RepoKeys {
    pub(crate) fn derive(secret: &[u8; 32]) -> Self {
        let id_key = blake3::derive_key("openvbo repo 2026 chunk id", secret);
        let seal_key = blake3::derive_key("openvbo repo 2026 seal", secret);
        let gear = blake3::derive_key("openvbo repo 2026 chunker gear", secret);
        let name_key = blake3::derive_key("openvbo repo 2026 object names", secret);
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&gear[..8]);
        Self {
            id_key,
            seal: XChaCha20Poly1305::new((&seal_key).into()),
            gear_seed: u64::from_le_bytes(seed),
            name_key,
        }
    }

    pub(crate) fn chunk_id(&self, plaintext: &[u8]) -> ChunkId {
        ChunkId(*blake3::keyed_hash(&self.id_key, plaintext).as_bytes())
    }

    /// A short keyed name for something secret (a resource), used in object paths.
    pub(crate) fn name_for(&self, parts: &[&str]) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.name_key);
        for p in parts {
            h.update(&(p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        hex::encode(&h.finalize().as_bytes()[..16])
    }

    /// `nonce ‖ ciphertext ‖ tag`, authenticated together with `ad`.
    pub(crate) fn seal(&self, ad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        seal_with(&self.seal, ad, plaintext)
    }

    pub(crate) fn open(&self, ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        open_with(&self.seal, ad, sealed)
            .map_err(|()| RepoError::corrupted("authentication failed (damaged or swapped data)"))
    }

    /// JSON → zstd → seal: how indexes, records and the like are stored.
    pub(crate) fn seal_json<T: serde::Serialize>(&self, ad: &[u8], value: &T) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(value)
            .map_err(|e| RepoError::with_source(ErrorKind::InvalidInput, "encoding", e))?;
        let z = zstd::bulk::compress(&json, 3)
            .map_err(|e| RepoError::with_source(ErrorKind::Storage, "compressing", e))?;
        Ok(self.seal(ad, &z))
    }

    pub(crate) fn open_json<T: serde::de::DeserializeOwned>(
        &self,
        ad: &[u8],
        sealed: &[u8],
    ) -> Result<T> {
        let z = self.open(ad, sealed)?;
        let json = zstd::stream::decode_all(&z[..])
            .map_err(|e| RepoError::with_source(ErrorKind::Corrupted, "decompressing", e))?;
        serde_json::from_slice(&json)
            .map_err(|e| RepoError::with_source(ErrorKind::Corrupted, "decoding", e))
    }
}

fn seal_with(cipher: &XChaCha20Poly1305, ad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
    out.extend_from_slice(&nonce);
    // Encryption with a valid key and nonce cannot fail for in-memory buffers.
    match cipher.encrypt(
        XNonce::from_slice(&nonce),
        Payload {
            msg: plaintext,
            aad: ad,
        },
    ) {
        Ok(ct) => out.extend_from_slice(&ct),
        Err(_) => out.clear(),
    }
    out
}

fn open_with(
    cipher: &XChaCha20Poly1305,
    ad: &[u8],
    sealed: &[u8],
) -> std::result::Result<Vec<u8>, ()> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(());
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: ad })
        .map_err(|_| ())
}

/// Argon2id parameters, stored with each password-wrapped key.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane (~50 ms here).
        Self {
            m_cost_kib: 19 * 1024,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

/// A wrapped copy of the repository secret, as stored in `keys/<name>`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct KeyFile {
    pub kind: KeyFileKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<KdfParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// base64 of `nonce ‖ sealed secret`.
    pub wrapped: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KeyFileKind {
    Master,
    Password,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn key_ad(repo_id: &str) -> Vec<u8> {
    format!("openvbo repo key v1 {repo_id}").into_bytes()
}

fn password_key(password: &str, salt: &[u8], p: KdfParams) -> Result<[u8; 32]> {
    let params = argon2::Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(32))
        .map_err(|_| RepoError::corrupted("bad Argon2id parameters in key file"))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    a.hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|_| RepoError::invalid("password could not be hashed"))?;
    Ok(out)
}

impl KeyFile {
    pub(crate) fn wrap_master(repo_id: &str, secret: &[u8; 32], key: &WrappingKey) -> Self {
        use base64::Engine;
        let c = XChaCha20Poly1305::new((&key.0).into());
        Self {
            kind: KeyFileKind::Master,
            kdf: None,
            salt: None,
            wrapped: b64().encode(seal_with(&c, &key_ad(repo_id), secret)),
        }
    }

    pub(crate) fn wrap_password(
        repo_id: &str,
        secret: &[u8; 32],
        password: &str,
        kdf: KdfParams,
    ) -> Result<Self> {
        use base64::Engine;
        let salt: [u8; 16] = rand::random();
        let k = password_key(password, &salt, kdf)?;
        let c = XChaCha20Poly1305::new((&k).into());
        Ok(Self {
            kind: KeyFileKind::Password,
            kdf: Some(kdf),
            salt: Some(b64().encode(salt)),
            wrapped: b64().encode(seal_with(&c, &key_ad(repo_id), secret)),
        })
    }

    /// Unwraps with whichever of `master`/`password` matches this file's kind.
    pub(crate) fn unwrap(
        &self,
        repo_id: &str,
        master: Option<&WrappingKey>,
        password: Option<&str>,
    ) -> Result<Option<[u8; 32]>> {
        use base64::Engine;
        let wrapped = b64()
            .decode(&self.wrapped)
            .map_err(|_| RepoError::corrupted("key file is not valid base64"))?;
        let key = match (self.kind, master, password) {
            (KeyFileKind::Master, Some(m), _) => m.0,
            (KeyFileKind::Password, _, Some(pw)) => {
                let salt = self
                    .salt
                    .as_deref()
                    .and_then(|s| b64().decode(s).ok())
                    .ok_or_else(|| RepoError::corrupted("key file has no salt"))?;
                password_key(pw, &salt, self.kdf.unwrap_or_default())?
            }
            _ => return Ok(None),
        };
        let c = XChaCha20Poly1305::new((&key).into());
        match open_with(&c, &key_ad(repo_id), &wrapped) {
            Ok(s) if s.len() == 32 => {
                let mut out = [0u8; 32];
                out.copy_from_slice(&s);
                Ok(Some(out))
            }
            _ => Err(RepoError::new(
                ErrorKind::WrongKey,
                "the key or password does not open this repository",
            )),
        }
    }
}
