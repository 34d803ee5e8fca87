//! Administrators of the openvbo server and the tokens they use.

mod grant_cache;
mod hashing;
mod password;
mod service;
mod throttle;
mod token;

pub use password::{generate_password, hash_password, verify_password};
pub use service::{
    AuthService, AuthSettings, TokenGrant, MAX_PASSWORD_BYTES, MAX_TOKEN_LIFETIME,
    MAX_USER_NAME_BYTES, MIN_ADMIN_PASSWORD_CHARS,
};
pub use throttle::{LoginThrottle, ThrottleSettings};
pub use token::{generate_token, hash_token};
