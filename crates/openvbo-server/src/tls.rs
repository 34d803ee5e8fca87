//! The server certificate: the operator's, or a self-signed one generated
//! once into the data dir and reused. (The TLS settings built from it are
//! the API crate's: `openvbo_api::tls::server_config`.)

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::fsutil::write_atomically;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} {path}: {reason}")]
    Read {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot write the generated TLS certificate to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("the TLS certificate and key do not work together: {0}")]
    Config(String),
    #[error("--tls-cert and --tls-key must be given together")]
    HalfConfigured,
}

/// Where the generated certificate lives in a data dir.
pub fn generated_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Loads the given certificate, or the generated one (creating it first).
/// Returns the rustls config and the certificate's path.
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
) -> Result<(Arc<ServerConfig>, PathBuf), TlsError> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf()),
        (None, None) => {
            let (c, k) = generated_paths(data_dir);
            if !c.exists() || !k.exists() {
                generate(&c, &k)?;
            }
            (c, k)
        }
        _ => return Err(TlsError::HalfConfigured),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Read {
            what: "certificate",
            path: cert_path.clone(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Read {
            what: "certificate",
            path: cert_path,
            reason: "no certificate in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsError::Read {
        what: "private key",
        path: key_path.clone(),
        reason: e.to_string(),
    })?;
    let config =
        openvbo_api::tls::server_config(certs, key).map_err(|e| TlsError::Config(e.to_string()))?;
    Ok((config, cert_path))
}

fn generate(cert_path: &Path, key_path: &Path) -> Result<(), TlsError> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(host) = fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_owned());
        }
    }
    let certified =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    let dir = cert_path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    // Key first and private: a crash between the two leaves no certificate
    // without its key.
    let write = |path: &Path, bytes: &[u8], private: bool| {
        write_atomically(path, bytes, private).map_err(|source| TlsError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    write(
        key_path,
        certified.key_pair.serialize_pem().as_bytes(),
        true,
    )?;
    write(cert_path, certified.cert.pem().as_bytes(), false)?;
    tracing::info!(path = %cert_path.display(), "generated a self-signed TLS certificate");
    Ok(())
}
