//! Serving HTTPS: accept, TLS handshake, HTTP/1.1 or HTTP/2, with limits on
//! connections and on how long a client may dawdle, and a graceful stop.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// What one client may hold of the server, so idle or trickling clients
/// (slowloris) cannot starve the others.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once; beyond it new ones are closed at once.
    pub max_connections: usize,
    /// Connections open at once from one address.
    pub max_connections_per_ip: usize,
    /// A client that has not finished the TLS handshake by then is dropped.
    pub handshake_timeout: Duration,
    /// A client that takes longer to send a request's headers (or stays idle
    /// that long between requests) is dropped.
    pub header_timeout: Duration,
    /// A request's whole body must have arrived this long after the request
    /// did (408 otherwise), however slowly it trickles.
    pub body_timeout: Duration,
    /// No request takes longer than this, body and answer included (503).
    pub request_timeout: Duration,
    /// A connection with no request in flight for this long is closed, on
    /// HTTP/2 as on HTTP/1.1.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            // A sixteenth of the whole: a handful of addresses cannot hold
            // every slot.
            max_connections_per_ip: 64,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Whether a connection is in use: requests in flight, and when the last one
/// ended (or the connection opened).
struct Activity {
    in_flight: std::sync::atomic::AtomicUsize,
    last: std::sync::Mutex<tokio::time::Instant>,
}

/// Held while a request is in flight.
struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            last: std::sync::Mutex::new(tokio::time::Instant::now()),
        })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Resolves once the connection has had no request in flight for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let since = *self.last.lock().unwrap_or_else(|p| p.into_inner());
            let busy = self.in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0;
            let due = since + idle;
            if !busy && tokio::time::Instant::now() >= due {
                return;
            }
            // Busy: look again after another period; idle: at the due time.
            let next = if busy {
                tokio::time::Instant::now() + idle
            } else {
                due
            };
            tokio::time::sleep_until(next).await;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last.lock().unwrap_or_else(|p| p.into_inner()) = tokio::time::Instant::now();
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A response body that keeps its request in flight until it has been sent
/// (or dropped, when the client went away).
struct Sending {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl http_body::Body for Sending {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

pub struct ServeOptions {
    pub limits: ConnectionLimits,
    pub shutdown_grace: Duration,
}

/// Open connections per client address; entries vanish at zero.
#[derive(Default)]
struct PerAddress(std::sync::Mutex<HashMap<IpAddr, usize>>);

/// Released when the connection ends.
struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn acquire(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = map.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    // Stopping: `stop` tells every connection to close once its requests
    // are answered; each connection holds an `alive` sender, so `all_closed`
    // ends when the last one has.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (alive, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
    let limits = options.limits;
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(PerAddress::default());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .max_concurrent_streams(256);
    let service = tower::util::MapRequestLayer::new(crate::paths::canonicalize_request::<Incoming>);
    let app = tower::Layer::layer(&service, app);

    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; refusing a connection");
            drop(tcp);
            continue;
        };
        let Some(slot) = per_address.acquire(peer.ip(), limits.max_connections_per_ip.max(1))
        else {
            tracing::warn!(%peer, "per-address connection limit reached; refusing a connection");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let builder = builder.clone();
        let mut stopping = stopping.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let _held = (permit, slot, alive);
            let stream =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let activity = Activity::new();
            let tracked = activity.clone();
            let svc = tower::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                let in_flight = tracked.begin();
                let app = app.clone();
                async move {
                    let response = app.oneshot(req).await;
                    // In flight until the body has been sent, not only its
                    // headers: a long download is not an idle connection.
                    response.map(|r| {
                        r.map(|body| {
                            axum::body::Body::new(Sending {
                                body,
                                _in_flight: in_flight,
                            })
                        })
                    })
                }
            });
            let conn = builder
                .serve_connection_with_upgrades(
                    TokioIo::new(crate::refusals::JsonRefusals::new(stream)),
                    TowerToHyperService::new(svc),
                )
                .into_owned();
            tokio::pin!(conn);
            let idle = activity.idle_for(limits.idle_timeout);
            tokio::pin!(idle);
            // Idle or stopping, the connection is closed gracefully, never
            // dropped: a request hyper has begun to read (not yet counted in
            // flight) is answered, with `Connection: close`, instead of being
            // cut off with an EOF, and TLS ends with close_notify. The
            // connection is polled before the idle timer (`biased`): a request
            // that has arrived by the deadline is read and counted in flight
            // before the timer looks, so the timer sees a busy connection.
            // (schemathesis runs met such EOFs on POSTs now and then.)
            let mut closing = false;
            loop {
                tokio::select! {
                    biased;
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    () = &mut idle, if !closing => {
                        tracing::debug!(%peer, "closing an idle connection");
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    _ = stopping.wait_for(|stop| *stop), if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: waiting for requests in flight");
    let _ = stop.send(true);
    drop(alive);
    tokio::select! {
        _ = all_closed.recv() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(options.shutdown_grace) => {
            tracing::warn!("requests still in flight after the grace period; stopping anyway");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use axum::routing::get;

    /// A download that takes several idle periods must arrive whole: the
    /// idle timer once counted a request as done when its headers left.
    #[tokio::test]
    async fn a_long_download_is_not_an_idle_connection() {
        async fn slow() -> axum::body::Body {
            let chunks = futures::stream::unfold(0u8, |i| async move {
                if i == 4 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
                Some((
                    Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a' + i; 1000])),
                    i + 1,
                ))
            });
            axum::body::Body::from_stream(chunks)
        }
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(certified.key_pair.serialize_der()).unwrap();
        let tls = crate::tls::server_config(vec![certified.cert.der().clone()], key).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let limits = ConnectionLimits {
            idle_timeout: Duration::from_millis(100),
            ..ConnectionLimits::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            tls,
            Router::new().route("/slow", get(slow)),
            ServeOptions {
                limits,
                shutdown_grace: Duration::from_secs(5),
            },
            async {
                let _ = stopped.await;
            },
        ));
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
            )
            .tls_built_in_root_certs(false)
            .build()
            .unwrap();
        let body = client
            .get(format!("https://localhost:{port}/slow"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .expect("the whole body arrives");
        let expected: Vec<u8> = (0..4u8).flat_map(|i| vec![b'a' + i; 1000]).collect();
        assert_eq!(body.as_ref(), expected.as_slice());
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }

    /// A request that is still arriving when the idle timer fires is
    /// answered: the connection closes gracefully, it is not dropped.
    #[tokio::test]
    async fn a_request_begun_when_the_idle_timer_fires_is_answered() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(certified.key_pair.serialize_der()).unwrap();
        let tls = crate::tls::server_config(vec![certified.cert.der().clone()], key).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = ConnectionLimits {
            idle_timeout: Duration::from_millis(100),
            ..ConnectionLimits::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            tls,
            Router::new().route("/ping", get(|| async { "pong" })),
            ServeOptions {
                limits,
                shutdown_grace: Duration::from_secs(5),
            },
            async {
                let _ = stopped.await;
            },
        ));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certified.cert.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        // Half the request before the idle deadline, the rest well after it.
        tls.write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .unwrap();
        tls.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        tls.write_all(b"\r\n").await.unwrap();
        tls.flush().await.unwrap();
        let mut answer = Vec::new();
        // The answer ends with close_notify or a plain close (an EOF error):
        // either is fine once the whole answer came first.
        let _ = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut answer))
            .await
            .expect("the server answers and closes");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
        assert!(text.ends_with("pong"), "{text}");
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{text}"
        );
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
