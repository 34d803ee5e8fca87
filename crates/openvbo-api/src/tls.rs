//! The TLS settings the API is served with. Where the certificate comes
//! from (the operator's files, or one generated into the data dir) is the
//! composition root's business (`openvbo-server`); what the connection
//! offers — TLS 1.3 and 1.2, HTTP/2 and HTTP/1.1 by ALPN — is decided here.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// A server configuration for `certs` (leaf first) and their `key`.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    // Both, or clients that speak only one of them fail the handshake.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
