//! Planetary Computer SAS signing of asset URLs.
//!
//! Planetary Computer assets live in Azure Blob Storage
//! (`https://{account}.blob.core.windows.net/{container}/…`) and are read with a short-lived
//! shared-access-signature token appended as a query string. The token of an account and container
//! comes from `{token_endpoint}/{account}/{container}` as `{"token": "st=…&se=…&sig=…",
//! "msft:expiry": "2024-05-01T12:34:56Z"}`; it is cached until `refresh_margin` before its expiry
//! and fetched again after that, or at once when storage refuses it (HTTP 403: revoked or expired
//! early — [`Signer::invalidate`]).
//!
//! For mirrors and test servers that are not on `blob.core.windows.net`, the account and the
//! container are the first two segments of the URL's path.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Result, StacError};
use crate::http::Http;
use crate::time::{now_unix, parse_rfc3339};

/// The public token endpoint of the Planetary Computer.
pub const PC_TOKEN_ENDPOINT: &str = "https://planetarycomputer.microsoft.com/api/sas/v1/token";

/// A token and when it expires (Unix seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The query string to append (`st=…&se=…&sig=…`).
    pub token: String,
    /// Expiry, Unix seconds.
    pub expiry: i64,
}

/// How asset URLs are signed.
#[derive(Debug)]
pub enum Signer {
    /// Used as they are.
    None,
    /// Planetary Computer SAS tokens.
    PlanetaryComputer {
        /// `…/api/sas/v1/token` (configurable for tests and mirrors).
        token_endpoint: String,
        /// Refresh a token this many seconds before its expiry.
        refresh_margin_s: i64,
        /// Tokens by (account, container).
        cache: Mutex<HashMap<(String, String), Token>>,
        /// Number of tokens fetched (for tests and logs).
        fetched: std::sync::atomic::AtomicUsize,
    },
}

impl Signer {
    /// A Planetary Computer signer on `token_endpoint` refreshing 5 minutes before expiry.
    pub fn planetary_computer(token_endpoint: &str) -> Signer {
        Signer::PlanetaryComputer {
            token_endpoint: token_endpoint.trim_end_matches('/').to_string(),
            refresh_margin_s: 300,
            cache: Mutex::new(HashMap::new()),
            fetched: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sets the refresh margin (seconds before expiry).
    pub fn with_refresh_margin(mut self, s: i64) -> Signer {
        if let Signer::PlanetaryComputer { refresh_margin_s, .. } = &mut self {
            *refresh_margin_s = s;
        }
        self
    }

    /// Tokens fetched so far.
    pub fn tokens_fetched(&self) -> usize {
        match self {
            Signer::None => 0,
            Signer::PlanetaryComputer { fetched, .. } => fetched.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Whether URLs are signed at all.
    pub fn is_signing(&self) -> bool {
        matches!(self, Signer::PlanetaryComputer { .. })
    }

    /// The signed URL of `href` (unchanged without signing, or when it already carries a signature).
    pub fn sign(&self, http: &Http, href: &str) -> Result<String> {
        let Signer::PlanetaryComputer { token_endpoint, refresh_margin_s, cache, fetched } = self else {
            return Ok(href.to_string());
        };
        if href.contains("sig=") || !href.starts_with("http") {
            return Ok(href.to_string());
        }
        let (account, container) = storage_of(href).ok_or_else(|| StacError::Token {
            account: "?".into(),
            container: "?".into(),
            url: token_endpoint.clone(),
            reason: format!("cannot tell the storage account and container of {href}"),
        })?;
        let key = (account.clone(), container.clone());
        let now = now_unix();
        let cached = cache.lock().ok().and_then(|m| m.get(&key).cloned()).filter(|t| t.expiry - refresh_margin_s > now);
        let token = match cached {
            Some(t) => t,
            None => {
                let url = format!("{token_endpoint}/{account}/{container}");
                let terr = |reason: String| StacError::Token { account: account.clone(), container: container.clone(), url: url.clone(), reason };
                let v = http.get_json("SAS token", &url).map_err(|e| terr(e.to_string()))?;
                let token = v.get("token").and_then(|t| t.as_str()).ok_or_else(|| terr("the answer has no \"token\"".into()))?.to_string();
                let expiry_s = v.get("msft:expiry").and_then(|t| t.as_str()).ok_or_else(|| terr("the answer has no \"msft:expiry\"".into()))?;
                let expiry = parse_rfc3339(expiry_s).ok_or_else(|| terr(format!("\"msft:expiry\" {expiry_s:?} is not an RFC 3339 time")))?;
                fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = Token { token, expiry };
                if let Ok(mut m) = cache.lock() {
                    m.insert(key, t.clone());
                }
                t
            }
        };
        let sep = if href.contains('?') { '&' } else { '?' };
        Ok(format!("{href}{sep}{}", token.token.trim_start_matches('?')))
    }

    /// Forgets the token used for `href` (after storage refused it), so the next [`Signer::sign`]
    /// fetches a new one.
    pub fn invalidate(&self, href: &str) {
        if let (Signer::PlanetaryComputer { cache, .. }, Some(key)) = (self, storage_of(href)) {
            if let Ok(mut m) = cache.lock() {
                m.remove(&key);
            }
        }
    }
}

/// (account, container) of a blob URL: `https://{account}.blob.core.windows.net/{container}/…`, or
/// the first two path segments for other hosts.
pub fn storage_of(href: &str) -> Option<(String, String)> {
    let rest = href.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    let host = host.split(':').next()?;
    let mut segs = path.split(['/', '?']).filter(|s| !s.is_empty());
    if let Some(account) = host.strip_suffix(".blob.core.windows.net") {
        return Some((account.to_string(), segs.next()?.to_string()));
    }
    let a = segs.next()?.to_string();
    let c = segs.next()?.to_string();
    Some((a, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_accounts() {
        assert_eq!(
            storage_of("https://modiseuwest.blob.core.windows.net/modis-061-cogs/MOD09A1/18/04/x.tif"),
            Some(("modiseuwest".into(), "modis-061-cogs".into()))
        );
        assert_eq!(storage_of("http://127.0.0.1:9/acct/cont/x.tif"), Some(("acct".into(), "cont".into())));
        assert_eq!(storage_of("http://127.0.0.1:9/x.tif"), None);
    }
}
