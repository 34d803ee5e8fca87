use std::path::PathBuf;

/// Errors from loading tenants and from the in-process test knobs.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read tenant file {}: {source}", path.display())]
    ReadTenantFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tenant file {} is not valid tenant JSON: {source}", path.display())]
    ParseTenantFile {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("tenant file {}: {problems}", path.display())]
    InvalidTenantFile { path: PathBuf, problems: String },
    /// The tenant set handed to `Simulator::new` is inconsistent.
    #[error("invalid tenant configuration: {0}")]
    InvalidTenants(String),
    #[error("no simulated tenant has the id or domain '{0}'")]
    UnknownTenant(String),
    #[error("tenant '{tenant}' has no user '{upn}'")]
    UnknownUser { tenant: String, upn: String },
}

/// Joins validation problems into one operator-readable line.
pub(crate) fn join_problems(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => format!("{} problems: {}", many.len(), many.join("; ")),
    }
}
