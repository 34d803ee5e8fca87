//! Requests no handler took: an official v6 operation not built yet (501),
//! a method the resource does not have (405), another API version or an
//! unknown path (404).

use axum::http::{Method, Uri};

use crate::error::ApiError;
use crate::paths;

pub(super) async fn not_routed(method: Method, uri: Uri) -> ApiError {
    let path = uri.path();
    let first = path.split('/').find(|s| !s.is_empty()).unwrap_or_default();
    let operations = paths::official().operations(path);
    if !operations.is_empty() {
        if let Some(op) = operations.iter().find(|o| o.method == method) {
            return ApiError::NotImplemented(format!(
                "{} ({} {}) is not implemented yet by this server",
                op.operation_id, op.method, op.template
            ));
        }
        let mut allowed: Vec<&str> = operations.iter().map(|o| o.method.as_str()).collect();
        allowed.sort_unstable();
        return ApiError::MethodNotAllowed(format!(
            "{method} is not allowed on {path}; allowed: {}",
            allowed.join(", ")
        ));
    }
    let is_version = first.len() > 1
        && first.starts_with(['v', 'V'])
        && first[1..].chars().all(|c| c.is_ascii_digit());
    if is_version && !first.eq_ignore_ascii_case("v6") {
        return ApiError::NotFound(format!(
            "API version {first} is not available on this server; it implements v6"
        ));
    }
    ApiError::NotFound(format!("no resource at {path}"))
}
