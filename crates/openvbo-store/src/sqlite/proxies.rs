//! Backup proxies (`proxies`).

use async_trait::async_trait;
use openvbo_core::backup::{
    InternetProxy, InternetProxyType, Proxy, ProxyId, ProxyType, ThrottlingUnit,
};
use openvbo_core::store::{ProxyStore, StoreError};
use sqlx::{FromRow, SqliteConnection};

use super::convert::{from_millis, parse_enum, parse_id, parse_opt_enum, to_millis};
use super::error::err;
use super::SqliteStore;

const COLUMNS: &str = "id, kind, host_name, description, port, threads_number, \
     enable_network_throttling, throttling_value, throttling_unit, internet_proxy_type, \
     internet_proxy_host_name, internet_proxy_port, internet_proxy_use_auth, \
     internet_proxy_user_name, created_at";

#[derive(FromRow)]
struct Row {
    id: String,
    kind: String,
    host_name: String,
    description: String,
    port: i32,
    threads_number: i32,
    enable_network_throttling: bool,
    throttling_value: Option<i64>,
    throttling_unit: Option<String>,
    internet_proxy_type: Option<String>,
    internet_proxy_host_name: Option<String>,
    internet_proxy_port: Option<i32>,
    internet_proxy_use_auth: Option<bool>,
    internet_proxy_user_name: Option<String>,
    created_at: i64,
}

impl TryFrom<Row> for Proxy {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Proxy, StoreError> {
        let internet_proxy = match r.internet_proxy_type.as_deref() {
            None => None,
            Some(kind) => Some(InternetProxy {
                kind: parse_enum(
                    "proxies.internet_proxy_type",
                    kind,
                    InternetProxyType::parse,
                )?,
                host_name: r.internet_proxy_host_name,
                port: r.internet_proxy_port,
                use_authentication: r.internet_proxy_use_auth,
                user_name: r.internet_proxy_user_name,
            }),
        };
        Ok(Proxy {
            id: parse_id("proxies.id", &r.id)?,
            kind: parse_enum("proxies.kind", &r.kind, ProxyType::parse)?,
            host_name: r.host_name,
            description: r.description,
            port: r.port,
            threads_number: r.threads_number,
            enable_network_throttling: r.enable_network_throttling,
            throttling_value: r.throttling_value,
            throttling_unit: parse_opt_enum(
                "proxies.throttling_unit",
                r.throttling_unit.as_deref(),
                ThrottlingUnit::parse,
            )?,
            internet_proxy,
            created_at: from_millis("proxies.created_at", r.created_at)?,
        })
    }
}

async fn find_local(conn: &mut SqliteConnection) -> Result<Option<Proxy>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM proxies WHERE kind = 'Local'"
    ))
    .fetch_optional(&mut *conn)
    .await
    .map_err(err("cannot read the local proxy"))?;
    row.map(Proxy::try_from).transpose()
}

async fn insert(conn: &mut SqliteConnection, p: &Proxy) -> Result<(), StoreError> {
    let internet = p.internet_proxy.as_ref();
    sqlx::query(&format!(
        "INSERT INTO proxies ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))
    .bind(p.id.to_string())
    .bind(p.kind.as_str())
    .bind(&p.host_name)
    .bind(&p.description)
    .bind(p.port)
    .bind(p.threads_number)
    .bind(p.enable_network_throttling)
    .bind(p.throttling_value)
    .bind(p.throttling_unit.map(ThrottlingUnit::as_str))
    .bind(internet.map(|i| i.kind.as_str()))
    .bind(internet.and_then(|i| i.host_name.as_deref()))
    .bind(internet.and_then(|i| i.port))
    .bind(internet.and_then(|i| i.use_authentication))
    .bind(internet.and_then(|i| i.user_name.as_deref()))
    .bind(to_millis(p.created_at))
    .execute(&mut *conn)
    .await
    .map_err(err("cannot store the proxy"))?;
    Ok(())
}

#[async_trait]
impl ProxyStore for SqliteStore {
    async fn local_proxy(&self, candidate: &Proxy) -> Result<Proxy, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = async {
            if let Some(existing) = find_local(&mut tx).await? {
                return Ok(existing);
            }
            let mut local = candidate.clone();
            local.kind = ProxyType::Local;
            insert(&mut tx, &local).await?;
            Ok(local)
        }
        .await;
        tx.finish(outcome, "cannot store the local proxy").await
    }

    async fn list_proxies(&self) -> Result<Vec<Proxy>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM proxies ORDER BY created_at, id"
        ))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list proxies"))?;
        rows.into_iter().map(Proxy::try_from).collect()
    }

    async fn get_proxy(&self, id: ProxyId) -> Result<Option<Proxy>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM proxies WHERE id = ?1"))
                .bind(id.to_string())
                .fetch_optional(&self.read)
                .await
                .map_err(err("cannot read the proxy"))?;
        row.map(Proxy::try_from).transpose()
    }
}
