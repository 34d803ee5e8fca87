//! Encryption keys (`/v6/EncryptionKeys`): a password that can open the
//! repositories encrypted with it. The password itself is never stored.

use time::OffsetDateTime;

use super::ids::EncryptionKeyId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptionKey {
    pub id: EncryptionKeyId,
    pub description: String,
    /// A PHC string (argon2id) to check a password against.
    pub password_hash: String,
    /// Key material derived from or wrapped by the password, as the
    /// repository engine lays it out. Opaque to the store.
    pub key_material: Vec<u8>,
    pub revision: i64,
    pub created_at: OffsetDateTime,
}
