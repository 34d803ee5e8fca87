//! Seeded corpora for the benchmark (design doc §10), never downloaded:
//! A = 512 MiB stream (256 MiB random + 256 MiB word text); B = 20,000 M365-like items in
//! 20 "mailboxes", lognormal sizes (median ≈ 11 KB of text), 10 % carrying an attachment drawn from
//! a pool shared by all mailboxes; C = churn of B (1 % modified, 1 % new, 0.5 % deleted);
//! D = A with 150 bytes inserted at the front.

use std::io::Write;
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn fill(&mut self, out: &mut Vec<u8>, n: usize) {
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
    }
}

const WORDS: &[&str] = &[
    "meeting",
    "budget",
    "quarter",
    "please",
    "review",
    "attached",
    "thanks",
    "regards",
    "project",
    "deadline",
    "update",
    "the",
    "and",
    "for",
    "with",
    "report",
    "team",
    "draft",
    "customer",
    "invoice",
    "schedule",
    "tomorrow",
    "agenda",
    "notes",
    "follow",
    "up",
    "contract",
    "sales",
    "forecast",
    "approval",
    "travel",
    "expense",
    "policy",
    "launch",
    "marketing",
    "design",
    "server",
    "backup",
    "security",
    "training",
    "office",
    "weekly",
    "status",
    "action",
    "items",
];

fn text(r: &mut Rng, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        let v = r.next();
        out.extend_from_slice(WORDS[(v % WORDS.len() as u64) as usize].as_bytes());
        out.push(if (v >> 32).is_multiple_of(13) {
            b'\n'
        } else {
            b' '
        });
    }
    out.truncate(n);
    out
}

fn gen_a(out: &Path, prefix: &[u8]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    f.write_all(prefix).unwrap();
    let mut r = Rng(0xA11CE);
    let mut buf = Vec::new();
    for _ in 0..256 {
        buf.clear();
        r.fill(&mut buf, 1 << 20);
        f.write_all(&buf).unwrap();
    }
    let mut t = Rng(0x7E47);
    for _ in 0..256 {
        f.write_all(&text(&mut t, 1 << 20)).unwrap();
    }
    f.flush().unwrap();
}

fn write_item(path: &Path, r: &mut Rng, pool: &[Vec<u8>]) {
    let size = ((11_000f64.ln() + 0.9 * r.normal()).exp() as usize).clamp(200, 4 << 20);
    let mut body = format!(
        "Subject: {} {}\r\nFrom: user{}@contoso.example\r\n\r\n",
        WORDS[(r.next() % 40) as usize],
        r.next() % 100_000,
        r.next() % 1000
    )
    .into_bytes();
    body.extend_from_slice(&text(r, size));
    if r.next().is_multiple_of(10) {
        // Attachments are shared across mailboxes: the same bytes, dedup material.
        body.extend_from_slice(&pool[(r.next() % pool.len() as u64) as usize]);
    }
    std::fs::write(path, body).unwrap();
}

fn gen_b(dir: &Path) {
    let mut r = Rng(0xB0B);
    let pool: Vec<Vec<u8>> = (0..300)
        .map(|_| {
            let n = ((80_000f64.ln() + 0.8 * r.normal()).exp() as usize).clamp(64 << 10, 4 << 20);
            let mut v = Vec::new();
            r.fill(&mut v, n);
            v
        })
        .collect();
    for m in 0..20 {
        let mdir = dir.join(format!("mailbox{m:02}"));
        for i in 0..1000 {
            let d = mdir.join(format!("folder{}", i / 250));
            std::fs::create_dir_all(&d).unwrap();
            write_item(&d.join(format!("item{i:04}.eml")), &mut r, &pool);
        }
    }
}

fn churn(dir: &Path) {
    let mut r = Rng(0xC4C4);
    let pool: Vec<Vec<u8>> = vec![{
        let mut v = Vec::new();
        r.fill(&mut v, 300_000);
        v
    }];
    for m in 0..20 {
        let mdir = dir.join(format!("mailbox{m:02}"));
        for i in 0..1000 {
            let p = mdir.join(format!("folder{}/item{i:04}.eml", i / 250));
            if i % 100 == 7 {
                // modified: a reply appended
                let mut b = std::fs::read(&p).unwrap();
                b.extend_from_slice(&text(&mut r, 2000));
                std::fs::write(&p, b).unwrap();
            } else if i % 200 == 13 {
                std::fs::remove_file(&p).unwrap();
            }
        }
        for i in 0..10 {
            write_item(&mdir.join(format!("folder0/new{i:03}.eml")), &mut r, &pool);
        }
    }
}

/// Runs a corpus command if `cmd` is one.
pub(crate) fn run(cmd: &str, args: &[String]) -> Option<()> {
    match cmd {
        "gen-a" => gen_a(Path::new(&args[2]), b""),
        "shift" => gen_a(Path::new(&args[2]), &[0x5a; 150]),
        "gen-b" => gen_b(Path::new(&args[2])),
        "churn" => churn(Path::new(&args[2])),
        _ => return None,
    }
    Some(())
}
