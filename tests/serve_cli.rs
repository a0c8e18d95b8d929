//! `rsei serve` from the command line: it prints its address, answers, refuses bad input with a
//! clear message and exit code 2. (The server itself is tested in `crates/rsei-serve/tests`.)

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use common::{rsei, stderr, TempDir};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    let status = r.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, r.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

#[test]
fn serve_prints_its_address_and_answers_on_loopback() {
    let t = TempDir::new("serve");
    // a folder without results: the server starts and says so through the API (404 with a message)
    let mut child = Command::new(env!("CARGO_BIN_EXE_rsei"))
        .args(["serve", &t.path().display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting rsei serve");
    let out = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_else(|| panic!("no address in {line:?}")).to_string();
    assert!(addr.starts_with("127.0.0.1:"), "default bind is loopback: {line}");
    assert!(!addr.ends_with(":0"), "a free port is printed, not 0: {line}");
    let (code, body) = get(&addr, "/api/areas/nothing");
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("no RSEI results in"), "{body}");
    let (code, body) = get(&addr, "/");
    assert_eq!(code, 200);
    assert!(body.contains("<html") || body.contains("<!doctype") || body.contains("<!DOCTYPE"), "the viewer page: {}", &body[..body.len().min(200)]);
    drop(server);
}

#[test]
fn serve_refuses_bad_input_with_exit_code_2() {
    let o = rsei(&["serve", "/no/such/results/folder"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/no/such/results/folder"), "{}", stderr(&o));
    let t = TempDir::new("serve-bad");
    let dir = t.path().display().to_string();
    let o = rsei(&["serve", &dir, "--base-map", "ftp://example.org/tiles"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("base map"), "{}", stderr(&o));
    let o = rsei(&["serve", &dir, "--bind", "not-an-address"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--bind"), "{}", stderr(&o));
}
