//! A loopback HTTP/1.1 server for tests without internet (std threads, no dependency).
//!
//! It serves the files of a folder with `HEAD`, `GET` and single `Range: bytes=a-b` requests
//! (206 with `Content-Range`, `ETag` from size and modification time), replaces `{{BASE}}` in
//! served `.json` files with its own `http://127.0.0.1:PORT`, answers routes registered with
//! [`TestServer::route`] (e.g. a `/search` endpoint or a token endpoint), and injects faults:
//! the next *n* requests of a path answered with a status ([`TestServer::fail_next`]), bodies cut
//! short of their `Content-Length` ([`TestServer::truncate`]), and a check every request must
//! pass ([`TestServer::guard`], e.g. a valid SAS token). Every request is logged.
//! It listens on 127.0.0.1 only and stops when dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A request as the handlers see it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The query string (without `?`).
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(v: &serde_json::Value) -> Reply {
        Reply { status: 200, content_type: "application/json".into(), body: serde_json::to_vec(v).unwrap_or_default() }
    }
    /// A status with a short text body.
    pub fn status(status: u16, text: &str) -> Reply {
        Reply { status, content_type: "text/plain".into(), body: text.as_bytes().to_vec() }
    }
}

type Handler = Box<dyn Fn(&Request, &str) -> Option<Reply> + Send + Sync>;
type Guard = Box<dyn Fn(&Request) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
struct State {
    root: PathBuf,
    base: String,
    routes: Vec<(String, Handler)>,
    failures: Vec<(String, usize, u16)>,
    truncate: Vec<String>,
    short_files: Vec<String>,
    guards: Vec<(String, Guard)>,
    log: Vec<(String, String)>,
}

/// The server (see the module docs).
pub struct TestServer {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Serves `root` on a free port of 127.0.0.1.
    pub fn start(root: &Path) -> std::io::Result<TestServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(State { root: root.to_path_buf(), base: format!("http://127.0.0.1:{port}"), ..State::default() }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &st);
                });
            }
        });
        Ok(TestServer { state, stop, port, thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers requests whose path starts with `prefix` with `f(request, base)` (when it returns `Some`).
    pub fn route(&self, prefix: &str, f: impl Fn(&Request, &str) -> Option<Reply> + Send + Sync + 'static) {
        if let Ok(mut s) = self.state.lock() {
            s.routes.push((prefix.into(), Box::new(f)));
        }
    }

    /// The next `n` requests whose path contains `pattern` are answered `status`.
    pub fn fail_next(&self, pattern: &str, n: usize, status: u16) {
        if let Ok(mut s) = self.state.lock() {
            s.failures.push((pattern.into(), n, status));
        }
    }

    /// Bodies of requests whose path contains `pattern` stop half-way (the connection closes).
    pub fn truncate(&self, pattern: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.truncate.push(pattern.into());
        }
    }

    /// Files whose path contains `pattern` are served cut to their first half, as if the upload
    /// had been truncated (consistent lengths, the data past the cut missing).
    pub fn truncate_file(&self, pattern: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.short_files.push(pattern.into());
        }
    }

    /// Requests whose path contains `pattern` must pass `g` (`Some(reply)` refuses them).
    pub fn guard(&self, pattern: &str, g: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static) {
        if let Ok(mut s) = self.state.lock() {
            s.guards.push((pattern.into(), Box::new(g)));
        }
    }

    /// The (method, path + query) of every request so far.
    pub fn log(&self) -> Vec<(String, String)> {
        self.state.lock().map(|s| s.log.clone()).unwrap_or_default()
    }

    /// Number of logged requests with `method` whose path contains `pattern`.
    pub fn count(&self, method: &str, pattern: &str) -> usize {
        self.log().iter().filter(|(m, p)| m == method && p.contains(pattern)).count()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(conn: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if conn.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let n: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; n.min(64 << 20)];
    conn.read_exact(&mut body)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    Ok(Some(Request { method, path, query, headers, body }))
}

fn write_reply(conn: &mut TcpStream, status: u16, headers: &[(String, String)], body: &[u8], head_only: bool, cut: bool) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    if !head_only {
        if cut {
            conn.write_all(&body[..body.len() / 2])?;
        } else {
            conn.write_all(body)?;
        }
    }
    conn.flush()
}

fn serve(conn: TcpStream, st: &Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut conn = conn;
    let Some(req) = read_request(&mut reader)? else { return Ok(()) };
    let head_only = req.method == "HEAD";
    let full = if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) };
    let (fail, cut, short, guard_reply, route_reply, root, base) = {
        let mut s = st.lock().map_err(|_| std::io::Error::other("poisoned"))?;
        s.log.push((req.method.clone(), full));
        let mut fail = None;
        for f in s.failures.iter_mut() {
            if req.path.contains(&f.0) && f.1 > 0 {
                f.1 -= 1;
                fail = Some(f.2);
                break;
            }
        }
        let cut = s.truncate.iter().any(|p| req.path.contains(p.as_str()));
        let short = s.short_files.iter().any(|p| req.path.contains(p.as_str()));
        let guard_reply = s.guards.iter().filter(|(p, _)| req.path.contains(p.as_str())).find_map(|(_, g)| g(&req));
        let base = s.base.clone();
        let route_reply = s.routes.iter().filter(|(p, _)| req.path.starts_with(p.as_str())).find_map(|(_, h)| h(&req, &base));
        (fail, cut, short, guard_reply, route_reply, s.root.clone(), base)
    };
    if let Some(code) = fail {
        return write_reply(&mut conn, code, &[], b"injected failure", head_only, false);
    }
    if let Some(r) = guard_reply {
        return write_reply(&mut conn, r.status, &[("Content-Type".into(), r.content_type)], &r.body, head_only, false);
    }
    if let Some(r) = route_reply {
        return write_reply(&mut conn, r.status, &[("Content-Type".into(), r.content_type)], &r.body, head_only, cut);
    }
    // a file of the root
    let rel = req.path.trim_start_matches('/');
    if rel.split('/').any(|s| s == "..") {
        return write_reply(&mut conn, 403, &[], b"", head_only, false);
    }
    let p = root.join(rel);
    let Ok(mut bytes) = std::fs::read(&p) else {
        return write_reply(&mut conn, 404, &[], b"not found", head_only, false);
    };
    let md = std::fs::metadata(&p)?;
    let mtime = md.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
    if short {
        bytes.truncate(bytes.len() / 2);
    }
    let is_json = rel.ends_with(".json");
    if is_json {
        bytes = String::from_utf8_lossy(&bytes).replace("{{BASE}}", &base).into_bytes();
    }
    let ctype = if is_json { "application/json" } else { "image/tiff" };
    let mut headers = vec![
        ("Content-Type".to_string(), ctype.to_string()),
        ("ETag".to_string(), format!("\"{}-{mtime}\"", bytes.len())),
        ("Accept-Ranges".to_string(), "bytes".to_string()),
    ];
    if let Some(r) = req.headers.get("range").and_then(|r| r.strip_prefix("bytes=")) {
        let total = bytes.len();
        let (a, b) = r.split_once('-').unwrap_or((r, ""));
        let a: usize = a.trim().parse().unwrap_or(0);
        let b: usize = b.trim().parse().map(|b: usize| b.min(total.saturating_sub(1))).unwrap_or(total.saturating_sub(1));
        if a >= total || b < a {
            headers.push(("Content-Range".into(), format!("bytes */{total}")));
            return write_reply(&mut conn, 416, &headers, b"", head_only, false);
        }
        headers.push(("Content-Range".into(), format!("bytes {a}-{b}/{total}")));
        return write_reply(&mut conn, 206, &headers, &bytes[a..=b], head_only, cut);
    }
    write_reply(&mut conn, 200, &headers, &bytes, head_only, cut)
}
