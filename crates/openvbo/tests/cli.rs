//! The `openvbo` binary as operators run it: real processes, real ports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_openvbo");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("exited early ({status}): {err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("port {port} never opened");
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Until the server answers HTTPS: it listens before its certificate exists.
fn wait_for_https(port: u16, data_dir: &std::path::Path, child: &mut Child) {
    wait_for_port(port, child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if data_dir.join("tls/cert.pem").exists()
            && client(data_dir)
                .get(format!("https://localhost:{port}/v6/ServiceInstance"))
                .send()
                .is_ok()
        {
            return;
        }
        assert!(Instant::now() < deadline, "no HTTPS answer on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn client(data_dir: &std::path::Path) -> reqwest::blocking::Client {
    let pem = std::fs::read(data_dir.join("tls/cert.pem")).unwrap();
    reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap()
}

fn login(
    client: &reqwest::blocking::Client,
    port: u16,
    user: &str,
    password: &str,
) -> (u16, serde_json::Value) {
    let r = client
        .post(format!("https://localhost:{port}/v6/Token"))
        .form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or_default())
}

fn serve(data_dir: &std::path::Path, port: u16, envs: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("OPENVBO_ADMIN_PASSWORD")
        .env_remove("OPENVBO_ADMIN_USER")
        .env_remove("OPENVBO_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn generated_password(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains("generated password"))
        .unwrap_or_else(|| panic!("no password in {stdout:?}"));
    lines[i + 2].trim().to_owned()
}

#[test]
fn first_start_prints_a_generated_password_once_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = serve(dir.path(), port, &[]);
    wait_for_https(port, dir.path(), &mut child);
    let c = client(dir.path());
    // Read stdout after stopping: the password was printed before serving.
    let (status, _) = login(&c, port, "admin", "definitely-not-it");
    assert_eq!(status, 400);
    assert!(terminate(&mut child).success());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let password = generated_password(&stdout);
    assert_eq!(password.len(), 24);
    assert!(!stderr.contains(&password), "the password reached the log");
    assert!(stderr.contains("shutdown requested"), "{stderr}");

    let mut child = serve(dir.path(), port, &[]);
    wait_for_https(port, dir.path(), &mut child);
    let (status, body) = login(&c, port, "admin", &password);
    assert_eq!(status, 200, "{body}");
    assert!(terminate(&mut child).success());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        !stdout.contains("generated password"),
        "printed only on first start: {stdout}"
    );
}

#[test]
fn admin_user_and_password_from_the_environment_and_reset_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [
        ("OPENVBO_ADMIN_USER", "operator"),
        ("OPENVBO_ADMIN_PASSWORD", "From-Env-Passw0rd"),
    ];
    let mut child = serve(dir.path(), port, &env);
    wait_for_https(port, dir.path(), &mut child);
    let c = client(dir.path());
    let (status, body) = login(&c, port, "operator", "From-Env-Passw0rd");
    assert_eq!(status, 200, "{body}");
    let old_token = body["access_token"].as_str().unwrap().to_owned();

    // Reset while the server runs (SQLite allows it).
    let out = Command::new(BIN)
        .args([
            "admin",
            "reset-password",
            "--user",
            "operator",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("OPENVBO_ADMIN_PASSWORD")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_password = generated_password(&String::from_utf8_lossy(&out.stdout));
    let (status, _) = login(&c, port, "operator", "From-Env-Passw0rd");
    assert_eq!(status, 400, "the old password no longer works");
    let r = c
        .get(format!("https://localhost:{port}/v6/Organizations"))
        .bearer_auth(&old_token)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "sessions were signed out");
    let (status, _) = login(&c, port, "operator", &new_password);
    assert_eq!(status, 200);
    assert!(terminate(&mut child).success());
}

#[test]
fn bad_configuration_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("openvbo.toml");
    std::fs::write(&config, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lisen"), "{err}");

    let out = Command::new(BIN)
        .args(["serve", "--m365-login-url", "ftp://example"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("m365_login_url"));

    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("OPENVBO_MASTER_KEY", "dG9vIHNob3J0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("master key"));

    // A setting from the environment is validated like its flag, before anything starts.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("never-created"))
        .env("OPENVBO_RESTORE_SESSION_IDLE_SECS", "30")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("restore_session_idle_secs must be from 60 to 604800; got 30"),
        "{err}"
    );
    assert!(!dir.path().join("never-created").exists());

    // The drive restore budget: a number of at least 2, from the environment as from a flag.
    for (value, expected) in [
        ("0", "drive_restore_units_per_minute must be at least 2"),
        ("lots", "invalid value 'lots'"),
    ] {
        let out = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("never-created"))
            .env("OPENVBO_DRIVE_RESTORE_UNITS_PER_MINUTE", value)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{value}: {err}");
        assert!(!dir.path().join("never-created").exists());
    }
}

#[test]
fn the_help_shows_every_setting_with_the_servers_default() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, default) in [
        ("--listen", "0.0.0.0:4443"),
        ("--data-dir", "./openvbo-data"),
        ("--access-token-lifetime-secs", "3600"),
        ("--restore-session-idle-secs", "1800"),
        ("--header-timeout-secs", "15"),
        ("--log", "info"),
    ] {
        let start = help
            .find(&format!("{flag} <"))
            .unwrap_or_else(|| panic!("{flag} missing: {help}"));
        let rest = &help[start + flag.len()..];
        let entry = &rest[..rest.find("\n      --").unwrap_or(rest.len())];
        // However clap wraps the line.
        let entry = entry.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(entry.contains(&format!("[default: {default}]")), "{entry}");
    }
    assert!(
        help.contains("[env: OPENVBO_RESTORE_SESSION_IDLE_SECS="),
        "{help}"
    );
}

#[test]
#[cfg(feature = "simulator")]
fn demo_backs_up_the_demo_organization_and_prints_commands_that_work_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            "demo-data",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !printed.contains("stay in the data dir") {
        assert!(Instant::now() < deadline, "demo printed: {printed}");
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            panic!("demo exited: {printed}");
        }
        printed.push_str(&line);
    }
    assert!(
        printed.contains("organization   contoso-demo.onmicrosoft.com (added)"),
        "{printed}"
    );
    assert!(printed.contains("job            Demo backup"), "{printed}");
    assert!(
        dir.path().join("demo-data").join("repository").is_dir(),
        "the repository is under the data dir: {printed}"
    );
    let script: String = printed
        .lines()
        .filter(|l| {
            ["TOKEN=", "ORG=", "JOB=", "SESSION=", "curl "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| format!("{l}\necho\n"))
        .collect();
    assert_eq!(script.matches("\ncurl ").count(), 5, "{printed}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let users = &lines[0];
    assert_eq!(users["limit"], 5, "{text}");
    assert!(users["totalCount"].as_u64().unwrap() > 5);
    assert_eq!(users["results"].as_array().unwrap().len(), 5);
    // The first backup has ended (the demo waits for it) and left a point.
    let session = &lines[1]["results"][0];
    assert!(
        session["status"] == "Success" || session["status"] == "Warning",
        "{text}"
    );
    assert!(session["endTime"].is_string(), "{session}");
    let titles: Vec<&str> = lines[2]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap())
        .collect();
    assert!(
        titles[0].starts_with("[Success] Job started at "),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("Processing mailbox: ")),
        "{titles:?}"
    );
    let points = lines[3].as_array().unwrap();
    assert_eq!(points.len(), 1, "{text}");
    assert_eq!(points[0]["isExchange"], true);
    assert_eq!(lines[4]["isBackedup"], true, "{text}");
    assert!(terminate(&mut child).success());
}

#[test]
#[cfg(feature = "simulator")]
fn the_simulator_subcommand_serves_tenant_files() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = dir.path().join("t.json");
    std::fs::write(
        &tenant,
        r#"{"id":"8b0c7a43-2f3e-4c1a-9d5e-1a2b3c4d5e6f","displayName":"T","initialDomain":"t.onmicrosoft.com",
            "users":[{"id":"9c1d8b54-3a4f-4d2b-8e6f-2b3c4d5e6f70","userPrincipalName":"a@t.onmicrosoft.com","displayName":"A","password":"p"}],
            "futureField":1}"#,
    )
    .unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "m365-sim",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tenant",
        ])
        .arg(&tenant)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child);
    let r = reqwest::blocking::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/t.onmicrosoft.com/oauth2/v2.0/token"
        ))
        .form(&[
            ("client_id", "14d82eec-204b-4c2f-b7e8-296a70dab67e"),
            ("grant_type", "password"),
            ("scope", "https://graph.microsoft.com/.default"),
            ("username", "a@t.onmicrosoft.com"),
            ("password", "wrong"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error_codes"][0], 50126);
    assert!(terminate(&mut child).success());
}

#[test]
#[cfg(feature = "simulator")]
fn the_simulator_generates_synthetic_tenants() {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "m365-sim",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--synthetic-users",
            "1500",
            "--synthetic-tenants",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child);
    let http = reqwest::blocking::Client::new();
    for tenant in ["synth0", "synth2"] {
        let r = http
            .post(format!(
                "http://127.0.0.1:{port}/{tenant}.onmicrosoft.com/oauth2/v2.0/token"
            ))
            .form(&[
                ("client_id", "14d82eec-204b-4c2f-b7e8-296a70dab67e"),
                ("grant_type", "password"),
                ("scope", "https://graph.microsoft.com/.default"),
                ("username", &format!("admin@{tenant}.onmicrosoft.com")),
                ("password", "Synthetic-Passw0rd!"),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{tenant}");
        let token = r.json::<serde_json::Value>().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = http
            .get(format!(
                "http://127.0.0.1:{port}/v1.0/users?$count=true&$top=1"
            ))
            .bearer_auth(token)
            .header("ConsistencyLevel", "eventual")
            .send()
            .unwrap();
        let count = r.json::<serde_json::Value>().unwrap()["@odata.count"]
            .as_u64()
            .unwrap();
        assert_eq!(count, if tenant == "synth0" { 1501 } else { 6 }, "{tenant}");
    }
    assert!(terminate(&mut child).success());
}
