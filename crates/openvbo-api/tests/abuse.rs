//! Abuse: password guessing, huge bodies, idle and trickling connections.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes or `within` passes; true if it closed.
async fn closed_within<S: AsyncReadExt + Unpin>(stream: &mut S, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_wrong_passwords_do_not_lock_the_admin_out() {
    // Time stands still while the guesses arrive, however slow the machine:
    // the window cannot pass in the middle of the burst.
    let clock = openvbo_core::clock::ManualClock::new();
    let (_dir, _sim, server) = start_on_clock(
        vec![contoso()],
        |c| c.login_throttle.window = Duration::from_secs(3),
        clock.clone(),
    )
    .await;
    let started = Instant::now();
    let mut refused = 0;
    let mut slowed = 0;
    for i in 0..1000 {
        let (status, _) = server.login(ADMIN, &format!("guess-{i}")).await;
        match status {
            StatusCode::BAD_REQUEST => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => slowed += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, 5, "only the allowed guesses are even checked");
    assert_eq!(refused + slowed, 1000);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "refusals stay cheap: {:?}",
        started.elapsed()
    );
    // The real administrator from another address at once, and from the
    // attacked address once the window has passed.
    let other = server.client_from([127, 0, 0, 3]);
    let (status, _) = server.login_via(&other, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    clock.advance(Duration::from_secs(3));
    assert_eq!(server.login(ADMIN, ADMIN_PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_100_mb_body_is_refused_before_it_is_sent() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let token = server.token().await;
    let mut tls = tls_connect(&server, [127, 0, 0, 1]).await;
    let head = format!(
        "POST /v6/Organizations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"type\":",
        100 * 1024 * 1024
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // The answer comes although almost none of the body was sent.
    while !String::from_utf8_lossy(&response).contains("\r\n\r\n{") {
        let n = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed without an answer");
        response.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("too large"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_100_mb_body_is_cut_off_early() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let token = server.token().await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    const CHUNK: usize = 64 * 1024;
    let chunks = futures::stream::iter(0..(100 * 1024 * 1024 / CHUNK)).map(move |_| {
        counter.fetch_add(CHUNK, Ordering::Relaxed);
        Ok::<_, std::io::Error>(vec![b' '; CHUNK])
    });
    let result = server
        .client
        .post(server.url("/v6/Organizations"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    if let Ok(r) = result {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    let sent = pulled.load(Ordering::Relaxed);
    assert!(
        sent < 20 * 1024 * 1024,
        "the server stopped reading early ({sent} bytes pulled)"
    );
    // And it still serves.
    assert_eq!(server.login(ADMIN, ADMIN_PASSWORD).await.0, StatusCode::OK);
}

use futures::StreamExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_idle_or_trickling_connections_do_not_stop_the_server() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |c| {
        c.connections.handshake_timeout = Duration::from_secs(2);
        c.connections.header_timeout = Duration::from_secs(2);
        // This test is about timeouts: room for 250 from each address.
        c.connections.max_connections_per_ip = 256;
    })
    .await;
    // 250 connections that never start TLS…
    let mut idle = Vec::new();
    for _ in 0..250 {
        idle.push(tcp_from(&server, [127, 0, 0, 6]).await);
    }
    // …and 250 that finish the handshake, then trickle a request line.
    let mut trickling = Vec::new();
    for _ in 0..250 {
        let mut tls = tls_connect(&server, [127, 0, 0, 5]).await;
        tls.write_all(b"GET /v6/Organ").await.unwrap();
        trickling.push(tls);
    }
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(server.login(ADMIN, ADMIN_PASSWORD).await.0, StatusCode::OK);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "others are served promptly: {:?}",
        started.elapsed()
    );
    // The server hangs up on all of them once their time is up.
    let mut idle_closed = 0;
    for stream in idle.iter_mut() {
        if closed_within(stream, Duration::from_secs(4)).await {
            idle_closed += 1;
        }
    }
    assert_eq!(
        idle_closed, 250,
        "connections without a TLS handshake are dropped"
    );
    let mut trickle_closed = 0;
    for stream in trickling.iter_mut() {
        let _ = stream.write_all(b"i").await;
        if closed_within(stream, Duration::from_secs(4)).await {
            trickle_closed += 1;
        }
    }
    assert_eq!(
        trickle_closed, 250,
        "connections that trickle headers are dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_connection() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |c| {
        c.connections.max_connections_per_ip = 20
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // The 21st from the same address is closed at once…
    let mut extra = TcpStream::connect(server.addr).await.unwrap();
    assert!(closed_within(&mut extra, Duration::from_secs(2)).await);
    // …while another address is served.
    let other = server.client_from([127, 0, 0, 4]);
    let r = other
        .get(server.url("/v6/ServiceInstance"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |c| {
        c.connections.header_timeout = Duration::from_secs(1)
    })
    .await;
    let mut tls = tls_connect(&server, [127, 0, 0, 7]).await;
    tls.write_all(b"GET /v6/ServiceInstance HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = tls.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 401"));
    let started = Instant::now();
    assert!(
        closed_within(&mut tls, Duration::from_secs(5)).await,
        "an idle keep-alive connection is closed"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

/// `n` password sign-ins at once with `client` (one HTTP/2 connection when
/// the client negotiates it): their statuses and `Retry-After` headers.
async fn burst(
    server: &Server,
    client: &reqwest::Client,
    attempts: Vec<(String, String)>,
) -> Vec<(StatusCode, Option<String>)> {
    let requests = attempts.into_iter().map(|(user, password)| {
        let request = client.post(server.url("/v6/Token")).form(&[
            ("grant_type", "password".to_owned()),
            ("username", user),
            ("password", password),
        ]);
        async move {
            let response = request.send().await.unwrap();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (response.status(), retry)
        }
    });
    futures::future::join_all(requests).await
}

fn count(results: &[(StatusCode, Option<String>)], status: StatusCode) -> usize {
    results.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_get_no_more_tries_than_sequential_ones() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    // 60 guesses at once over HTTP/1.1 connections, then 60 over one HTTP/2
    // connection from another address.
    let h1 = server.http1_client_from([127, 0, 0, 21]);
    let h2 = server.http2_client_from([127, 0, 0, 22]).await;
    for client in [&h1, &h2] {
        let guesses = (0..60)
            .map(|i| (ADMIN.to_owned(), format!("wrong-guess-{i}")))
            .collect();
        let results = burst(&server, client, guesses).await;
        assert_eq!(count(&results, StatusCode::BAD_REQUEST), 5, "{results:?}");
        assert_eq!(count(&results, StatusCode::TOO_MANY_REQUESTS), 55);
        assert!(results
            .iter()
            .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
            .all(|(_, retry)| retry.is_some()));
        // The right password is refused too until the window passes.
        let (status, _) = server.login_via(client, ADMIN, ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    // The administrator elsewhere is not locked out.
    assert_eq!(server.login(ADMIN, ADMIN_PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventing_user_names_is_stopped_per_address_and_others_still_sign_in() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |c| {
        c.login_throttle.max_attempts_per_address = 20;
    })
    .await;
    let attacker = server.http2_client_from([127, 0, 0, 31]).await;
    let guesses = (0..200)
        .map(|i| (format!("user-{i}"), "guess".to_owned()))
        .collect();
    let results = burst(&server, &attacker, guesses).await;
    assert_eq!(count(&results, StatusCode::BAD_REQUEST), 20, "{results:?}");
    assert_eq!(count(&results, StatusCode::TOO_MANY_REQUESTS), 180);
    let started = Instant::now();
    assert_eq!(server.login(ADMIN, ADMIN_PASSWORD).await.0, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hashing_queue_sheds_sign_ins_with_503_and_retry_after() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |c| {
        c.login_queue = 1;
        c.login_throttle.max_attempts_per_address = 1000;
    })
    .await;
    let attacker = server.http2_client_from([127, 0, 0, 41]).await;
    let guesses = (0..40)
        .map(|i| (format!("user-{i}"), "guess".to_owned()))
        .collect();
    let results = burst(&server, &attacker, guesses).await;
    let shed = count(&results, StatusCode::SERVICE_UNAVAILABLE);
    assert!(shed > 0, "{results:?}");
    assert_eq!(
        count(&results, StatusCode::BAD_REQUEST) + shed,
        40,
        "{results:?}"
    );
    assert!(results
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .all(|(_, retry)| retry.as_deref() == Some("2")));
    // Once the flood is over, sign-ins are served again.
    assert_eq!(server.login(ADMIN, ADMIN_PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn megabyte_user_names_and_passwords_are_refused_without_being_kept_or_hashed() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |c| {
        c.login_throttle.max_failures = 2;
        c.login_throttle.max_attempts_per_address = 5;
    })
    .await;
    let client = server.http2_client_from([127, 0, 0, 51]).await;
    let huge = "x".repeat(900 * 1024);
    let attempts: Vec<(String, String)> = (0..30)
        .map(|i| {
            if i % 2 == 0 {
                (format!("{huge}{i}"), "guess".to_owned())
            } else {
                (ADMIN.to_owned(), format!("{huge}{i}"))
            }
        })
        .collect();
    let started = Instant::now();
    let results = burst(&server, &client, attempts).await;
    // All refused as wrong credentials: none was counted against the
    // address (its budget is 5) and none waited for argon2.
    assert_eq!(count(&results, StatusCode::BAD_REQUEST), 30, "{results:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Nothing was remembered: the administrator signs in from there at once.
    assert_eq!(
        server.login_via(&client, ADMIN, ADMIN_PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_cannot_parse_get_a_message_body() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let many_headers: String = (0..200).map(|i| format!("X-Filler-{i}: v\r\n")).collect();
    let cases = [
        ("not http at all\r\n\r\n".to_owned(), 400, "not valid HTTP"),
        (
            format!(
                "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
                "a".repeat(70_000)
            ),
            414,
            "URI is too long",
        ),
        (
            format!("GET /v6/ServiceInstance HTTP/1.1\r\nHost: localhost\r\n{many_headers}\r\n"),
            431,
            "too many headers",
        ),
    ];
    for (request, status, fragment) in cases {
        let (got, body) = raw_request(&server, &request).await;
        assert_eq!(got, status, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
        assert!(
            json["message"].as_str().unwrap().contains(fragment),
            "{status}: {json}"
        );
    }
    // The server goes on serving.
    assert_eq!(server.login(ADMIN, ADMIN_PASSWORD).await.0, StatusCode::OK);
}
