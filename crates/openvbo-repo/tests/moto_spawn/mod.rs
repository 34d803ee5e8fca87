//! Starting `moto_server` for a test; shared by openvbo-repo's S3 tests and (through
//! `#[path]`) openvbo-api's `moto_common`.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts moto on a port it picks itself (`-p 0`) and reads the port from its
/// ` * Running on http://127.0.0.1:PORT` line: a free port chosen here and released before
/// moto binds it can be taken in between by a listener of a test running in parallel (then
/// moto exits and the readiness check talks to the wrong server).
pub(crate) fn spawn_moto(bin: &str, extra: &[&str]) -> (Child, u16) {
    let mut child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start the S3 test server {bin:?} ({e}); install it with \
                 `pip install 'moto[server]'` or set OPENVBO_MOTO_SERVER (.ci/run does this)"
            )
        });
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Drains moto's log to the end (a full pipe would stall it), sending the port once.
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let port = line
                .split("Running on http")
                .nth(1)
                .and_then(|rest| rest.rsplit(':').next())
                .and_then(|p| p.trim().trim_end_matches('/').parse::<u16>().ok());
            if let Some(port) = port {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(port);
                }
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("moto_server did not say which port it listens on within 30 s"));
    (child, port)
}
