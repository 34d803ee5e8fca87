use thiserror::Error;

/// Why a message could not be converted.
#[derive(Debug, Error)]
pub enum MsgError {
    /// The stored bytes are not a MIME message `mail-parser` can read.
    #[error("the stored message is not a readable MIME message")]
    NotMime,
    /// Writing the compound file failed (the destination's I/O error is the source).
    #[error("writing the .msg compound file failed")]
    Write(#[source] std::io::Error),
    /// A value does not fit the format (a property or attachment over 4 GiB).
    #[error("{0} is too large for a .msg file")]
    TooLarge(&'static str),
}
