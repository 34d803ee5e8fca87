//! `check`: the structure (every record opens, every tree blob and every chunk it names is
//! indexed, every indexed pack exists at its recorded size) and, with `read_data_percent`,
//! the data itself (whole packs downloaded, hashed against their names, every blob opened
//! and verified against its id). Problems name the object they are in.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::{ErrorKind, Result};
use crate::ids::ChunkId;
use crate::model::TreeEntry;
use crate::pack::{decode_blob, parse_pack};
use crate::repo::{Repository, POINTS_PREFIX};

#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Read and verify this share of the packs (0–100); `None` checks the structure only.
    pub read_data_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckProblem {
    /// The object name the problem is in (pack, segment, record).
    pub object: String,
    pub problem: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub restore_points: u64,
    pub items: u64,
    pub packs: u64,
    pub packs_read: u64,
    pub blobs_verified: u64,
    pub errors: Vec<CheckProblem>,
    /// Not errors: packs no index names (left by a crash; prune removes them).
    pub unreferenced_packs: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl Repository {
    pub async fn check(&self, opts: CheckOptions) -> Result<CheckReport> {
        self.check_with_progress(opts, &|_, _| {}).await
    }

    /// `progress(done, total)` is called as packs are read.
    pub async fn check_with_progress(
        &self,
        opts: CheckOptions,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<CheckReport> {
        let mut rep = CheckReport::default();
        let problem = |rep: &mut CheckReport, object: &str, p: String| {
            rep.errors.push(CheckProblem {
                object: object.to_string(),
                problem: p,
            });
        };
        self.refresh_index().await?;
        let listed: HashMap<String, u64> = {
            let mut m = HashMap::new();
            for prefix in ["data/", "meta/"] {
                for o in self.inner.backend.list(prefix).await? {
                    m.insert(o.name, o.size);
                }
            }
            m
        };
        let packs: Vec<(u32, String, u64)> = {
            let idx = self
                .inner
                .index
                .read()
                .map_err(|_| crate::RepoError::new(ErrorKind::Storage, "lock"))?;
            idx.packs()
                .into_iter()
                .map(|(i, n, s)| (i, n.to_string(), s))
                .collect()
        };
        rep.packs = packs.len() as u64;
        let indexed: HashSet<&str> = packs.iter().map(|(_, n, _)| n.as_str()).collect();
        for (_, name, size) in &packs {
            match listed.get(name) {
                None => problem(&mut rep, name, "pack is missing".into()),
                Some(s) if s != size => problem(
                    &mut rep,
                    name,
                    format!("pack is {s} bytes, the index says {size} (truncated or damaged)"),
                ),
                Some(_) => {}
            }
        }
        let mut unref: Vec<String> = listed
            .keys()
            .filter(|n| !indexed.contains(n.as_str()))
            .cloned()
            .collect();
        unref.sort();
        rep.unreferenced_packs = unref;

        // Records, trees, and the chunks they reference.
        let mut referenced: HashSet<ChunkId> = HashSet::new();
        for o in self.inner.backend.list(POINTS_PREFIX).await? {
            let id = crate::RestorePointId(o.name.trim_start_matches(POINTS_PREFIX).to_string());
            let point = match self
                .get(&o.name)
                .await
                .and_then(|b| self.decode_record(id, &b))
            {
                Ok(p) => p,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => {
                    problem(&mut rep, &o.name, e.message().to_string());
                    continue;
                }
            };
            rep.restore_points += 1;
            for t in &point.tree {
                if !referenced.insert(*t) {
                    continue; // a tree blob shared with another point: already checked
                }
                match self.read_tree_blob(t).await {
                    Ok(entries) => {
                        for e in entries {
                            if let TreeEntry::Item(i) = e {
                                rep.items += 1;
                                for c in i.parts.iter().flat_map(|p| p.chunks.iter()) {
                                    if referenced.insert(*c) && !self.index_has(c) {
                                        problem(
                                            &mut rep,
                                            &o.name,
                                            format!(
                                                "item data chunk {c} is missing from the index"
                                            ),
                                        );
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => problem(&mut rep, &o.name, format!("tree: {}", e.message())),
                }
            }
        }

        if let Some(pct) = opts.read_data_percent {
            let mut chosen: Vec<&(u32, String, u64)> = packs
                .iter()
                .filter(|(_, n, _)| listed.contains_key(n))
                .filter(|(_, n, _)| pct >= 100.0 || sample(n) < pct / 100.0)
                .collect();
            chosen.sort_by(|a, b| a.1.cmp(&b.1));
            let total = chosen.len() as u64;
            for (i, (pack_no, name, _)) in chosen.into_iter().enumerate() {
                progress(i as u64, total);
                rep.packs_read += 1;
                self.check_pack(*pack_no, name, &mut rep).await?;
            }
            progress(total, total);
        }
        Ok(rep)
    }

    fn index_has(&self, id: &ChunkId) -> bool {
        self.inner
            .index
            .read()
            .map(|i| i.get_for_read(id).is_some())
            .unwrap_or(false)
    }

    async fn check_pack(&self, pack_no: u32, name: &str, rep: &mut CheckReport) -> Result<()> {
        let bytes = match self.get(name).await {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Unavailable => return Err(e),
            Err(e) => {
                rep.errors.push(CheckProblem {
                    object: name.into(),
                    problem: e.message().into(),
                });
                return Ok(());
            }
        };
        let hash = hex::encode(blake3::hash(&bytes).as_bytes());
        if !name.ends_with(&hash) {
            rep.errors.push(CheckProblem {
                object: name.into(),
                problem: "content does not match its name (damaged)".into(),
            });
        }
        let keys = &self.inner.keys;
        let header = match parse_pack(keys, name, &bytes) {
            Ok(h) => h,
            Err(e) => {
                rep.errors.push(CheckProblem {
                    object: name.into(),
                    problem: e.message().into(),
                });
                Vec::new()
            }
        };
        // Verify what the index says is in this pack (the header may be what is damaged).
        let wanted: Vec<(ChunkId, crate::index::Loc)> = {
            let idx = self
                .inner
                .index
                .read()
                .map_err(|_| crate::RepoError::new(ErrorKind::Storage, "lock"))?;
            idx.iter()
                .filter(|(_, l)| l.pack == pack_no)
                .map(|(c, l)| (*c, *l))
                .collect()
        };
        if !header.is_empty() && header.len() < wanted.len() {
            rep.errors.push(CheckProblem {
                object: name.into(),
                problem: format!(
                    "header lists {} blobs, the index {}",
                    header.len(),
                    wanted.len()
                ),
            });
        }
        for (id, loc) in wanted {
            let (s, e) = (loc.offset as usize, loc.offset as usize + loc.len as usize);
            let res = match bytes.get(s..e) {
                Some(sealed) => decode_blob(keys, &id, loc.kind, sealed, loc.raw_len).map(|_| ()),
                None => Err(crate::RepoError::corrupted(format!(
                    "blob {id} lies past the end"
                ))),
            };
            match res {
                Ok(()) => rep.blobs_verified += 1,
                Err(e) => rep.errors.push(CheckProblem {
                    object: name.into(),
                    problem: e.message().into(),
                }),
            }
        }
        Ok(())
    }
}

/// A stable pseudo-random number in [0, 1) per pack, so a `--read-data=10` run reads a
/// deterministic tenth (rotate by renaming nothing: the same tenth each time is by design
/// reproducible; full coverage is `--read-data`).
fn sample(name: &str) -> f64 {
    let h = blake3::hash(name.as_bytes());
    let b = h.as_bytes();
    let v = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    (v >> 11) as f64 / (1u64 << 53) as f64
}
