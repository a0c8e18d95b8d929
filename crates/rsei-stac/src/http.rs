//! The JSON side of HTTP (searches, tokens, HEAD requests) with retries and exponential backoff.
//!
//! A request is retried when the connection fails, times out or is answered 408, 429, 500, 502,
//! 503 or 504; the delays are `base · 2^k` (capped at 30 s, or the server's `Retry-After` when it
//! is longer). Other statuses are final and reported with the URL and the start of the body.

use std::io::Read;
use std::time::Duration;

use crate::error::{Result, StacError};

/// How failed requests are retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Delay before the first retry; doubled at each retry.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 retries from 0.5 s (0.5, 1, 2, 4 s).
    fn default() -> Self {
        RetryPolicy { max_retries: 4, base_delay: Duration::from_millis(500) }
    }
}

impl RetryPolicy {
    /// The delay before retry `k` (0-based).
    pub fn delay(&self, k: u32) -> Duration {
        self.base_delay.saturating_mul(1u32 << k.min(16)).min(Duration::from_secs(30))
    }
}

/// A response read whole.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub content_length: Option<u64>,
}

/// A blocking HTTP client shared by every request of a run.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Extra headers sent with every request (e.g. `Authorization: Bearer …` for NASA Earthdata).
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("retry", &self.retry).field("headers", &self.headers.len()).finish()
    }
}

fn retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Largest JSON body accepted (a page of items is well under this).
const MAX_BODY: u64 = 256 << 20;

impl Http {
    /// A client with `timeout` per request and the given retry policy.
    pub fn new(timeout: Duration, retry: RetryPolicy) -> Http {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(concat!("rsei/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Http { agent, retry, headers: Vec::new() }
    }

    /// One request, without retry: `Ok(response)` whatever the status, `Err` for transport errors
    /// (including a body shorter than its `Content-Length`).
    fn once(&self, method: &'static str, url: &str, body: Option<&[u8]>) -> std::result::Result<Response, String> {
        let mut resp = match (method, body) {
            ("POST", Some(b)) => {
                let mut r = self.agent.post(url).header("Content-Type", "application/json").header("Accept", "application/geo+json, application/json");
                for (k, v) in &self.headers {
                    r = r.header(k, v);
                }
                r.send(b)
            }
            ("HEAD", _) => {
                let mut r = self.agent.head(url);
                for (k, v) in &self.headers {
                    r = r.header(k, v);
                }
                r.call()
            }
            _ => {
                let mut r = self.agent.get(url).header("Accept", "application/geo+json, application/json");
                for (k, v) in &self.headers {
                    r = r.header(k, v);
                }
                r.call()
            }
        }
        .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(|s| s.to_string());
        let etag = header("etag");
        let content_length = header("content-length").and_then(|v| v.trim().parse().ok());
        let mut body = Vec::new();
        if method != "HEAD" {
            resp.body_mut()
                .with_config()
                .limit(MAX_BODY)
                .reader()
                .read_to_end(&mut body)
                .map_err(|e| match content_length {
                    Some(n) => format!("truncated response: the body ended before its {n} bytes ({e})"),
                    None => format!("reading the response body: {e}"),
                })?;
            if let Some(n) = content_length {
                if (body.len() as u64) < n {
                    return Err(format!("truncated response: {} of {n} bytes", body.len()));
                }
            }
        }
        Ok(Response { status, body, etag, content_length })
    }

    /// A request retried per the policy; a final non-2xx status is an error naming `what` and the URL.
    pub fn request(&self, what: &str, method: &'static str, url: &str, body: Option<&[u8]>) -> Result<Response> {
        let mut attempt = 0;
        loop {
            let r = self.once(method, url, body);
            let reason = match r {
                Ok(resp) if (200..300).contains(&resp.status) => return Ok(resp),
                Ok(resp) if !retryable(resp.status) || attempt >= self.retry.max_retries => {
                    let text = String::from_utf8_lossy(&resp.body);
                    let text: String = text.chars().take(300).collect();
                    return Err(StacError::Http {
                        what: what.into(),
                        method,
                        url: redact(url),
                        reason: if text.trim().is_empty() { format!("HTTP {}", resp.status) } else { format!("HTTP {}: {}", resp.status, text.trim()) },
                    });
                }
                Ok(resp) => format!("HTTP {}", resp.status),
                Err(e) if attempt >= self.retry.max_retries => {
                    return Err(StacError::Http { what: what.into(), method, url: redact(url), reason: format!("{e} (after {} attempts)", attempt + 1) })
                }
                Err(e) => e,
            };
            let _ = reason;
            std::thread::sleep(self.retry.delay(attempt));
            attempt += 1;
        }
    }

    /// GET and parse JSON.
    pub fn get_json(&self, what: &str, url: &str) -> Result<serde_json::Value> {
        let r = self.request(what, "GET", url, None)?;
        parse_json(what, url, &r.body)
    }

    /// POST a JSON body and parse the JSON answer.
    pub fn post_json(&self, what: &str, url: &str, body: &serde_json::Value) -> Result<serde_json::Value> {
        let b = serde_json::to_vec(body).map_err(|e| StacError::InvalidOption { name: "search body".into(), reason: e.to_string() })?;
        let r = self.request(what, "POST", url, Some(&b))?;
        parse_json(what, url, &r.body)
    }

    /// HEAD: status checked, ETag and length returned.
    pub fn head(&self, what: &str, url: &str) -> Result<Response> {
        self.request(what, "HEAD", url, None)
    }

    /// GET a file into `dest` (whole), retried per the policy.
    pub fn download(&self, what: &str, url: &str) -> Result<Vec<u8>> {
        Ok(self.request(what, "GET", url, None)?.body)
    }
}

/// Parses a JSON body, naming the URL on failure.
pub fn parse_json(what: &str, url: &str, body: &[u8]) -> Result<serde_json::Value> {
    serde_json::from_slice(body).map_err(|e| StacError::BadJson { what: what.into(), url: redact(url), reason: e.to_string() })
}

/// A URL without its query string when that carries a signature (`sig=`, `token=`): URLs in
/// messages and caches never hold credentials.
pub fn redact(url: &str) -> String {
    match url.split_once('?') {
        Some((base, q)) if q.split('&').any(|kv| kv.starts_with("sig=") || kv.starts_with("token=") || kv.starts_with("se=")) => {
            format!("{base}?…")
        }
        _ => url.to_string(),
    }
}

/// Resolves `href` against `base` (absolute URLs and absolute paths are kept; `..` and `.` are
/// folded).
pub fn resolve(base: &str, href: &str) -> String {
    if href.contains("://") || base.is_empty() {
        return href.to_string();
    }
    let (scheme_host, path) = match base.find("://") {
        Some(i) => {
            let after = &base[i + 3..];
            let slash = after.find('/').map(|j| i + 3 + j).unwrap_or(base.len());
            (&base[..slash], &base[slash..])
        }
        None => ("", base),
    };
    let joined = if href.starts_with('/') {
        href.to_string()
    } else {
        let dir = match path.rfind('/') {
            Some(k) => &path[..=k],
            None => "",
        };
        format!("{dir}{href}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "." => {}
            ".." => {
                if parts.len() > 1 {
                    parts.pop();
                }
            }
            s => parts.push(s),
        }
    }
    format!("{scheme_host}{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        let p = RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(100) };
        assert_eq!(p.delay(0), Duration::from_millis(100));
        assert_eq!(p.delay(2), Duration::from_millis(400));
        assert_eq!(p.delay(40), Duration::from_secs(30));
    }

    #[test]
    fn hrefs_resolve() {
        assert_eq!(resolve("http://h:1/a/b/catalog.json", "items/x.json"), "http://h:1/a/b/items/x.json");
        assert_eq!(resolve("http://h:1/a/b/catalog.json", "../c/x.json"), "http://h:1/a/c/x.json");
        assert_eq!(resolve("http://h:1/a/b/catalog.json", "/z.tif"), "http://h:1/z.tif");
        assert_eq!(resolve("http://h:1/a/", "https://o/x"), "https://o/x");
        assert_eq!(resolve("/data/cat/catalog.json", "./i/x.json"), "/data/cat/i/x.json");
    }

    #[test]
    fn signatures_never_show() {
        assert_eq!(redact("https://a.blob.core.windows.net/c/x.tif?st=1&se=2&sig=abc"), "https://a.blob.core.windows.net/c/x.tif?…");
        assert_eq!(redact("http://h/search?page=2"), "http://h/search?page=2");
    }
}
