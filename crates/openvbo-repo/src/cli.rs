//! `openvbo repo …`: the repository without the server. Works on a directory or an S3
//! location with the master key file or the encryption password, so an administrator can
//! list, extract, check and maintain backups when the server and its database are gone.
//! The `openvbo` binary only wires [`RepoArgs`] in and calls [`run`].

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use futures::TryStreamExt;
use serde_json::json;

use crate::backend::{DynBackend, LocalBackend, ObjectBackend, RetryBudget, S3Location};
use crate::error::{io_error, ErrorKind, RepoError, Result};
use crate::{
    CheckOptions, FolderEntry, ItemEntry, RepoOptions, Repository, ResourceKind, RestorePoint,
    RestorePointId, RetentionRule, TreeEntry, Unlock, WrappingKey,
};

#[derive(Args, Debug)]
pub struct RepoArgs {
    /// The repository directory (or use the --s3-* options).
    #[arg(long, env = "OPENVBO_REPO", global = true)]
    pub repo: Option<PathBuf>,
    /// S3-compatible endpoint URL (e.g. https://s3.example.com); omit for AWS.
    #[arg(long, global = true)]
    pub s3_endpoint: Option<String>,
    #[arg(long, global = true)]
    pub s3_bucket: Option<String>,
    /// Folder inside the bucket.
    #[arg(long, global = true, default_value = "")]
    pub s3_prefix: String,
    #[arg(long, global = true, default_value = "us-east-1")]
    pub s3_region: String,
    #[arg(long, env = "OPENVBO_S3_ACCESS_KEY", global = true)]
    pub s3_access_key: Option<String>,
    /// The secret key: from the environment only, so it never shows in a process list.
    #[arg(skip)]
    pub s3_secret_key: Option<String>,
    /// Virtual-host style requests (bucket.endpoint) instead of path style.
    #[arg(long, global = true)]
    pub s3_virtual_host: bool,
    /// PEM file of certificates to trust for the S3 endpoint's TLS (a private CA).
    #[arg(long, global = true)]
    pub s3_ca_file: Option<PathBuf>,
    /// A file holding the 32-byte master key (raw or 64 hex digits).
    #[arg(long, env = "OPENVBO_REPO_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// Open with the encryption password, read from OPENVBO_REPO_PASSWORD (never a flag value).
    #[arg(long, global = true)]
    pub password: bool,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// Create a repository (writes a new key file if --key-file names a missing file).
    Init,
    /// List restore points, resources, or the folders and items of a restore point.
    Ls {
        #[command(subcommand)]
        what: Option<LsWhat>,
    },
    /// Extract a restore point (or some items) to a directory: messages as .eml, files at
    /// their paths.
    Extract {
        point: String,
        #[arg(long)]
        to: PathBuf,
        /// Only these item ids (repeatable).
        #[arg(long = "item")]
        items: Vec<String>,
    },
    /// Verify the structure; with --read-data[=PERCENT], decrypt and verify the data too.
    Check {
        #[arg(long, num_args = 0..=1, default_missing_value = "100", value_name = "PERCENT")]
        read_data: Option<f64>,
    },
    /// Logical vs stored bytes, dedup and compression ratios.
    Stats,
    /// Apply a retention rule to restore points.
    Forget {
        /// Keep this many days.
        #[arg(long)]
        keep_days: i64,
        /// Item-level retention (by item modification time) instead of snapshot-based.
        #[arg(long)]
        item_level: bool,
        /// Run prune afterwards.
        #[arg(long)]
        prune: bool,
    },
    /// Collect unreferenced data (two-phase: marks now, deletes on a later run) and repack.
    Prune,
}

#[derive(Subcommand, Debug, Clone)]
pub enum LsWhat {
    /// Restore points (the default).
    Points,
    /// Protected resources and their restore point counts.
    Resources,
    /// Folders and items of one restore point.
    Items { point: String },
}

fn backend(a: &RepoArgs) -> Result<DynBackend> {
    match (&a.repo, &a.s3_bucket) {
        (Some(p), None) => Ok(Arc::new(LocalBackend::new(p))),
        (None, Some(bucket)) => {
            let secret = a
                .s3_secret_key
                .clone()
                .or_else(|| std::env::var("OPENVBO_S3_SECRET_KEY").ok())
                .ok_or_else(|| RepoError::invalid("set OPENVBO_S3_SECRET_KEY for S3 access"))?;
            let loc = S3Location {
                endpoint: a.s3_endpoint.clone(),
                region: a.s3_region.clone(),
                bucket: bucket.clone(),
                prefix: a.s3_prefix.clone(),
                access_key_id: a.s3_access_key.clone().unwrap_or_default(),
                secret_access_key: secret,
                virtual_hosted_style: a.s3_virtual_host,
                allow_http: a
                    .s3_endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("http://")),
                root_certificates_pem: match &a.s3_ca_file {
                    Some(f) => Some(std::fs::read(f).map_err(|e| {
                        RepoError::invalid(format!("cannot read {}: {e}", f.display()))
                    })?),
                    None => None,
                },
                proxy_url: None,
            };
            Ok(Arc::new(ObjectBackend::s3(&loc, RetryBudget::default())?))
        }
        _ => Err(RepoError::invalid(
            "give either --repo DIR or --s3-bucket (with --s3-endpoint …)",
        )),
    }
}

fn password() -> Result<String> {
    std::env::var("OPENVBO_REPO_PASSWORD")
        .map_err(|_| RepoError::invalid("--password reads the password from OPENVBO_REPO_PASSWORD"))
}

fn read_key(path: &Path) -> Result<WrappingKey> {
    let data = std::fs::read(path)
        .map_err(|e| io_error(&format!("reading key file {}", path.display()), e))?;
    WrappingKey::from_file_contents(&data)
}

fn cli_options() -> RepoOptions {
    RepoOptions {
        holder: format!("openvbo-repo-cli-{}", std::process::id()),
        ..RepoOptions::default()
    }
}

async fn open(a: &RepoArgs) -> Result<Repository> {
    let b = backend(a)?;
    if a.password {
        let pw = password()?;
        return Repository::open(b, Unlock::Password(&pw), cli_options()).await;
    }
    let kf = a
        .key_file
        .as_ref()
        .ok_or_else(|| RepoError::invalid("give --key-file FILE or --password"))?;
    let key = read_key(kf)?;
    Repository::open(b, Unlock::Master(&key), cli_options()).await
}

/// Runs a repository command, printing to stdout.
pub async fn run(args: RepoArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_to(args, &mut out).await
}

fn emit(out: &mut dyn Write, s: &str) -> Result<()> {
    writeln!(out, "{s}").map_err(|e| io_error("writing output", e))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v)
        .map_err(|e| RepoError::with_source(ErrorKind::Storage, "encoding output", e))
}

fn time_str(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn point_json(p: &RestorePoint) -> serde_json::Value {
    json!({
        "id": p.id.0,
        "time": time_str(p.time_ms),
        "organization": p.resource.organization,
        "resource": p.resource.resource,
        "kind": p.resource.kind,
        "complete": p.complete,
        "items": p.item_count,
        "bytes": p.item_bytes,
        "stats": p.stats,
    })
}

/// The same, writing to `out` (tests capture it).
pub async fn run_to(args: RepoArgs, out: &mut dyn Write) -> Result<()> {
    match &args.command {
        RepoCommand::Init => init(&args, out).await,
        RepoCommand::Ls { what } => {
            let repo = open(&args).await?;
            match what.clone().unwrap_or(LsWhat::Points) {
                LsWhat::Points => ls_points(&repo, args.json, out).await,
                LsWhat::Resources => ls_resources(&repo, args.json, out).await,
                LsWhat::Items { point } => ls_items(&repo, &point, args.json, out).await,
            }
        }
        RepoCommand::Extract { point, to, items } => {
            let repo = open(&args).await?;
            extract(&repo, point, to, items, args.json, out).await
        }
        RepoCommand::Check { read_data } => {
            let repo = open(&args).await?;
            let bar = progress(args.json, "reading packs");
            let rep = repo
                .check_with_progress(
                    CheckOptions {
                        read_data_percent: *read_data,
                    },
                    &|d, t| {
                        bar.set_length(t);
                        bar.set_position(d);
                    },
                )
                .await?;
            bar.finish_and_clear();
            if args.json {
                emit(out, &to_json(&rep)?)?;
            } else {
                emit(
                    out,
                    &format!(
                        "{} restore points, {} items, {} packs ({} read, {} blobs verified)",
                        rep.restore_points,
                        rep.items,
                        rep.packs,
                        rep.packs_read,
                        rep.blobs_verified
                    ),
                )?;
                for p in &rep.unreferenced_packs {
                    emit(
                        out,
                        &format!("note: {p}: not referenced by any index (prune removes it)"),
                    )?;
                }
                for e in &rep.errors {
                    emit(out, &format!("error: {}: {}", e.object, e.problem))?;
                }
                if rep.ok() {
                    emit(out, "no errors were found")?;
                }
            }
            if rep.ok() {
                Ok(())
            } else {
                Err(RepoError::new(
                    ErrorKind::Corrupted,
                    format!("check found {} problem(s)", rep.errors.len()),
                ))
            }
        }
        RepoCommand::Stats => {
            let repo = open(&args).await?;
            let st = repo.stats().await?;
            if args.json {
                emit(out, &to_json(&st)?)
            } else {
                emit(out, &format!(
                    "restore points {}\nresources      {}\nitems          {}\nlogical bytes  {}\nunique bytes   {}\nstored bytes   {} (in {} packs of {} bytes)\ndedup ratio    {:.2}\ncompression    {:.2}",
                    st.restore_points, st.resources, st.items, st.logical_bytes, st.unique_bytes,
                    st.stored_blob_bytes, st.packs, st.pack_bytes, st.dedup_ratio, st.compression_ratio
                ))
            }
        }
        RepoCommand::Forget {
            keep_days,
            item_level,
            prune,
        } => {
            let repo = open(&args).await?;
            let keep_ms = keep_days.saturating_mul(86_400_000);
            let rule = if *item_level {
                RetentionRule::ItemLevel { keep_ms }
            } else {
                RetentionRule::SnapshotBased { keep_ms }
            };
            let f = repo.forget(&rule).await?;
            let p = if *prune {
                Some(repo.prune().await?)
            } else {
                None
            };
            if args.json {
                emit(out, &to_json(&json!({"forget": f, "prune": p}))?)
            } else {
                emit(
                    out,
                    &format!(
                        "removed {} restore points, rewrote {} ({} items dropped), kept {}",
                        f.removed.len(),
                        f.rewritten.len(),
                        f.items_removed,
                        f.kept
                    ),
                )?;
                if let Some(p) = p {
                    emit(out, &prune_text(&p))?;
                }
                Ok(())
            }
        }
        RepoCommand::Prune => {
            let repo = open(&args).await?;
            let p = repo.prune().await?;
            if args.json {
                emit(out, &to_json(&p)?)
            } else {
                emit(out, &prune_text(&p))
            }
        }
    }
}

fn prune_text(p: &crate::PruneReport) -> String {
    format!(
        "marked {} packs, deleted {} ({} bytes), rescued {}, repacked {}, {} marks waiting",
        p.packs_marked,
        p.packs_deleted,
        p.bytes_deleted,
        p.packs_rescued,
        p.packs_repacked,
        p.marks_waiting
    )
}

fn progress(json: bool, msg: &'static str) -> indicatif::ProgressBar {
    if json {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
    {
        bar.set_style(style);
    }
    bar.set_message(msg);
    bar
}

async fn init(a: &RepoArgs, out: &mut dyn Write) -> Result<()> {
    let kf = a
        .key_file
        .as_ref()
        .ok_or_else(|| RepoError::invalid("init needs --key-file FILE (created if missing)"))?;
    let key = if kf.exists() {
        read_key(kf)?
    } else {
        let k: [u8; 32] = rand::random();
        write_private(kf, hex::encode(k).as_bytes())?;
        WrappingKey::from_bytes(k)
    };
    let pw = if a.password { Some(password()?) } else { None };
    if let Some(p) = &a.repo {
        std::fs::create_dir_all(p)
            .map_err(|e| io_error(&format!("creating {}", p.display()), e))?;
    }
    let repo = Repository::init(backend(a)?, &key, pw.as_deref(), cli_options()).await?;
    if a.json {
        emit(
            out,
            &to_json(&json!({"id": repo.id(), "location": repo.backend().describe()}))?,
        )
    } else {
        emit(
            out,
            &format!(
                "created repository {} at {}",
                repo.id(),
                repo.backend().describe()
            ),
        )
    }
}

fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let what = format!("writing key file {}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_error(&what, e))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_error(&what, e))
}

async fn ls_points(repo: &Repository, json_out: bool, out: &mut dyn Write) -> Result<()> {
    let points = repo.list_points(None).await?;
    if json_out {
        return emit(
            out,
            &to_json(&points.iter().map(point_json).collect::<Vec<_>>())?,
        );
    }
    for p in &points {
        emit(
            out,
            &format!(
                "{}  {}  {:?}  {}  {} items  {} bytes{}",
                p.id.0,
                time_str(p.time_ms),
                p.resource.kind,
                p.resource.resource,
                p.item_count,
                p.item_bytes,
                if p.complete { "" } else { "  (checkpoint)" }
            ),
        )?;
    }
    Ok(())
}

async fn ls_resources(repo: &Repository, json_out: bool, out: &mut dyn Write) -> Result<()> {
    let mut by: HashMap<(String, String, String), (u64, i64)> = HashMap::new();
    for p in repo
        .list_points(None)
        .await?
        .into_iter()
        .filter(|p| p.complete)
    {
        let k = (
            p.resource.organization.clone(),
            p.resource.resource.clone(),
            format!("{:?}", p.resource.kind),
        );
        let e = by.entry(k).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(p.time_ms);
    }
    let mut rows: Vec<_> = by.into_iter().collect();
    rows.sort();
    if json_out {
        let v: Vec<_> = rows
            .iter()
            .map(|((o, r, k), (n, t))| json!({"organization": o, "resource": r, "kind": k, "restorePoints": n, "latest": time_str(*t)}))
            .collect();
        return emit(out, &to_json(&v)?);
    }
    for ((o, r, k), (n, t)) in rows {
        emit(
            out,
            &format!("{o}  {k}  {r}  {n} restore points, latest {}", time_str(t)),
        )?;
    }
    Ok(())
}

async fn find_point(repo: &Repository, id: &str) -> Result<RestorePoint> {
    repo.read_point(&RestorePointId(id.to_string()))
        .await
        .map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                RepoError::new(
                    ErrorKind::NotFound,
                    format!("no restore point {id} (see `openvbo repo ls`)"),
                )
            } else {
                e
            }
        })
}

async fn ls_items(repo: &Repository, id: &str, json_out: bool, out: &mut dyn Write) -> Result<()> {
    let p = find_point(repo, id).await?;
    let mut entries = repo.entries(&p);
    let mut all = Vec::new();
    while let Some(e) = entries.try_next().await? {
        if json_out {
            all.push(e);
            continue;
        }
        match e {
            TreeEntry::Folder(f) => emit(out, &format!("folder {}  {}", f.id, f.name))?,
            TreeEntry::Item(i) => emit(
                out,
                &format!(
                    "item   {}  in {}  {} bytes  modified {}  {}",
                    i.id,
                    i.folder,
                    i.size,
                    time_str(i.modified * 1000),
                    title(&i)
                ),
            )?,
        }
    }
    if json_out {
        emit(out, &to_json(&all)?)?;
    }
    Ok(())
}

fn title(i: &ItemEntry) -> String {
    ["subject", "name", "displayName"]
        .iter()
        .find_map(|k| i.metadata.get(k).and_then(|v| v.as_str()))
        .unwrap_or("")
        .to_string()
}

/// A name safe as one path component.
fn safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() || c == ':' {
                '_'
            } else {
                c
            }
        })
        .collect();
    let s = s.trim().trim_matches('.').to_string();
    if s.is_empty() {
        "_".into()
    } else {
        s.chars().take(200).collect()
    }
}

fn folder_path(folders: &HashMap<String, FolderEntry>, id: &str) -> PathBuf {
    let mut parts = Vec::new();
    let mut cur = Some(id.to_string());
    while let Some(c) = cur {
        if parts.len() > 64 {
            break; // a cycle in damaged metadata
        }
        match folders.get(&c) {
            Some(f) => {
                parts.push(safe(&f.name));
                cur = f.parent.clone();
            }
            None => {
                parts.push(safe(&c));
                cur = None;
            }
        }
    }
    parts.iter().rev().collect()
}

async fn extract(
    repo: &Repository,
    id: &str,
    to: &Path,
    only: &[String],
    json_out: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let p = find_point(repo, id).await?;
    // Folders first (they may follow items in the tree): one pass for folders only.
    let mut folders = HashMap::new();
    {
        let mut s = repo.entries(&p);
        while let Some(e) = s.try_next().await? {
            if let TreeEntry::Folder(f) = e {
                folders.insert(f.id.clone(), f);
            }
        }
    }
    let bar = progress(json_out, "extracting");
    bar.set_length(p.item_count);
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut s = repo.entries(&p);
    while let Some(e) = s.try_next().await? {
        let TreeEntry::Item(i) = e else { continue };
        if !only.is_empty() && !only.contains(&i.id) {
            continue;
        }
        let dir = to.join(folder_path(&folders, &i.folder));
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_error(&format!("creating {}", dir.display()), e))?;
        let stem = match i.metadata.get("name").and_then(|v| v.as_str()) {
            Some(name) if p.resource.kind != ResourceKind::Mailbox => safe(name),
            _ => safe(&i.id),
        };
        for (k, part) in i.parts.iter().enumerate() {
            let file = if k == 0 {
                if p.resource.kind == ResourceKind::Mailbox {
                    dir.join(format!("{stem}.eml"))
                } else {
                    dir.join(&stem)
                }
            } else {
                let d = dir.join(format!("{stem}.parts"));
                tokio::fs::create_dir_all(&d)
                    .await
                    .map_err(|e| io_error("creating parts dir", e))?;
                d.join(safe(&part.name))
            };
            let mut f = tokio::fs::File::create(&file)
                .await
                .map_err(|e| io_error(&format!("creating {}", file.display()), e))?;
            bytes += repo.write_part(part, &mut f).await?;
        }
        n += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    if json_out {
        emit(
            out,
            &to_json(&json!({"items": n, "bytes": bytes, "to": to.display().to_string()}))?,
        )
    } else {
        emit(
            out,
            &format!("extracted {n} items ({bytes} bytes) to {}", to.display()),
        )
    }
}
