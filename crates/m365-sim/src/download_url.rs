//! Pre-authenticated download URLs, shaped like SharePoint's:
//! `{base}/personal/{site}/_layouts/15/download.aspx?UniqueId={guid}&Translate=false&tempauth={jwt}&ApiVersion=2.0`.
//!
//! `tempauth` is an unsigned-looking JWT (`alg: none`, `exp = nbf + 3600`)
//! as at Microsoft, plus a keyed digest so nobody can mint one. The URL
//! needs no Authorization header, expires (401), and is refused when its
//! query parameters are reordered (401), as SharePoint does. The clock can
//! be moved forward by tests instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// SharePoint's download URLs live for an hour.
pub(crate) const LIFETIME_SECS: i64 = 3600;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub aud: String,
    pub iss: String,
    pub nbf: i64,
    pub exp: i64,
    /// Drive and item the URL reads.
    pub drv: String,
    pub itm: String,
    pub sig: String,
}

pub(crate) struct UrlSigner {
    key: [u8; 32],
    /// Seconds added to the wall clock (the "time passes" knob).
    offset_secs: AtomicI64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UrlProblem {
    /// Not one of ours, tampered with, or parameters out of order.
    Invalid,
    Expired,
}

impl UrlSigner {
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        UrlSigner {
            key,
            offset_secs: AtomicI64::new(0),
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            + time::Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    pub(crate) fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }

    fn digest(&self, drive: &str, item: &str, nbf: i64, exp: i64) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(format!("{drive}\n{item}\n{nbf}\n{exp}").as_bytes());
        URL_SAFE_NO_PAD.encode(hasher.finalize())
    }

    /// The URL for one item; `site_path` is `personal/{name}` or `sites/{name}`.
    pub(crate) fn url(
        &self,
        base: &str,
        site_path: &str,
        drive: &str,
        item: &str,
        guid: &str,
    ) -> String {
        let nbf = self.now().unix_timestamp();
        let exp = nbf + LIFETIME_SECS;
        let claims = Claims {
            aud: "00000003-0000-0ff1-ce00-000000000000".into(),
            iss: "00000003-0000-0ff1-ce00-000000000000".into(),
            nbf,
            exp,
            drv: drive.to_owned(),
            itm: item.to_owned(),
            sig: self.digest(drive, item, nbf, exp),
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        format!(
            "{base}/{site_path}/_layouts/15/download.aspx?UniqueId={}&Translate=false&tempauth={header}.{payload}.&ApiVersion=2.0",
            guid.to_lowercase()
        )
    }

    /// Checks a download request's raw query string, in SharePoint's order.
    pub(crate) fn verify(&self, raw_query: &str) -> Result<Claims, UrlProblem> {
        let names: Vec<&str> = raw_query
            .split('&')
            .map(|pair| pair.split('=').next().unwrap_or_default())
            .collect();
        if names != ["UniqueId", "Translate", "tempauth", "ApiVersion"] {
            return Err(UrlProblem::Invalid);
        }
        let tempauth = raw_query
            .split('&')
            .find_map(|pair| pair.strip_prefix("tempauth="))
            .ok_or(UrlProblem::Invalid)?;
        let payload = tempauth.split('.').nth(1).ok_or(UrlProblem::Invalid)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| UrlProblem::Invalid)?;
        let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| UrlProblem::Invalid)?;
        if claims.sig != self.digest(&claims.drv, &claims.itm, claims.nbf, claims.exp) {
            return Err(UrlProblem::Invalid);
        }
        let now = self.now().unix_timestamp();
        if now >= claims.exp || now + 300 < claims.nbf {
            return Err(UrlProblem::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_verify_expire_and_refuse_reordering() {
        let signer = UrlSigner::new();
        let url = signer.url("http://h", "personal/a_b", "b!d", "01ITEM", "ABC");
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let claims = signer.verify(query);
        assert_eq!(claims.map(|c| c.itm), Ok("01ITEM".to_owned()));
        let mut pairs: Vec<&str> = query.split('&').collect();
        pairs.swap(0, 1);
        assert_eq!(
            signer.verify(&pairs.join("&")).map(|_| ()),
            Err(UrlProblem::Invalid)
        );
        let payload = query.split('.').nth(1).unwrap_or_default();
        let mut claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap_or_default())
                .unwrap_or_else(|_| panic!("claims"));
        claims.itm = "01OTHER".into();
        let forged_payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let forged = query.replace(payload, &forged_payload);
        assert_eq!(signer.verify(&forged).map(|_| ()), Err(UrlProblem::Invalid));
        signer.advance(LIFETIME_SECS);
        assert_eq!(signer.verify(query).map(|_| ()), Err(UrlProblem::Expired));
    }
}
