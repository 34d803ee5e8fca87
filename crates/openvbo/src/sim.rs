//! `openvbo m365-sim`: the Microsoft 365 tenant simulator on plain HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use m365_sim::{Fault, SimOptions, Simulator, SyntheticSpec, Tenant};

#[derive(Args, Debug)]
pub(crate) struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub listen: SocketAddr,
    /// A tenant file (JSON); repeat for several tenants. None: the built-in demo tenant.
    #[arg(long = "tenant")]
    pub tenants: Vec<PathBuf>,
    /// Delay added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Every Nth request answers 429 with Retry-After.
    #[arg(long, conflicts_with = "unavailable_every")]
    pub throttle_every: Option<u64>,
    /// Every Nth request answers 503 with Retry-After.
    #[arg(long)]
    pub unavailable_every: Option<u64>,
    /// The Retry-After of injected faults, in seconds.
    #[arg(long, default_value_t = 1)]
    pub retry_after_secs: u64,
    /// Add a generated tenant (synth0.onmicrosoft.com, admin@… / Synthetic-Passw0rd!) with this many users.
    #[arg(long, default_value_t = 0)]
    pub synthetic_users: u32,
    /// Groups of the generated tenant (every 4th is a Team).
    #[arg(long, default_value_t = 0)]
    pub synthetic_groups: u32,
    /// Sites of the generated tenant.
    #[arg(long, default_value_t = 0)]
    pub synthetic_sites: u32,
    /// Add this many small generated tenants (synth1…synthN), each with its own admin.
    #[arg(long, default_value_t = 0)]
    pub synthetic_tenants: u32,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3599)]
    pub token_lifetime_secs: u64,
    /// Microsoft's service limits: `off`, or `microsoft` (4 concurrent requests and a request budget per mailbox).
    #[arg(long, default_value = "off")]
    pub throttle_profile: m365_sim::ThrottleProfile,
    /// Requests per mailbox per window under the microsoft profile, as N/SECS.
    #[arg(long, default_value = "10000/600")]
    pub mailbox_budget: m365_sim::Budget,
    /// Messages generated on demand in each synthetic user's mailbox.
    #[arg(long, default_value_t = 0)]
    pub synthetic_messages: u32,
    /// Files generated in each synthetic user's OneDrive (median 200 KB, one in a hundred 10–20 MB).
    #[arg(long, default_value_t = 0)]
    pub synthetic_files: u32,
    /// Seed of all generated content (same seed, same bytes).
    #[arg(long, default_value_t = 0)]
    pub content_seed: u64,
}

impl SimArgs {
    pub(crate) fn tenants(&self) -> anyhow::Result<Vec<Tenant>> {
        let mut tenants: Vec<Tenant> = self
            .tenants
            .iter()
            .map(|p| m365_sim::load_tenant_file(p).map_err(anyhow::Error::from))
            .collect::<anyhow::Result<_>>()?;
        let big = SyntheticSpec {
            users: self.synthetic_users,
            groups: self.synthetic_groups,
            sites: self.synthetic_sites,
        };
        if big != SyntheticSpec::default() {
            tenants.push(m365_sim::synthetic_tenant(0, big));
        }
        // Small tenants for many organizations: synth1…synthN.
        tenants.extend((1..=self.synthetic_tenants).map(|i| {
            m365_sim::synthetic_tenant(
                i,
                SyntheticSpec {
                    users: 5,
                    groups: 2,
                    sites: 1,
                },
            )
        }));
        if tenants.is_empty() {
            tenants.push(m365_sim::demo_tenant());
        }
        Ok(tenants)
    }

    pub(crate) fn options(&self) -> SimOptions {
        let fault = match (self.throttle_every, self.unavailable_every) {
            (Some(every), _) if every > 0 => Some(Fault::Throttle {
                every,
                retry_after_secs: self.retry_after_secs,
            }),
            (_, Some(every)) if every > 0 => Some(Fault::Unavailable {
                every,
                retry_after_secs: self.retry_after_secs,
            }),
            _ => None,
        };
        SimOptions {
            latency: Duration::from_millis(self.latency_ms),
            fault,
            token_lifetime: Duration::from_secs(self.token_lifetime_secs.max(1)),
            throttle: m365_sim::ThrottleOptions {
                profile: self.throttle_profile,
                mailbox_budget: self.mailbox_budget,
                ..m365_sim::ThrottleOptions::default()
            },
            content: m365_sim::ContentOptions {
                synthetic_messages: self.synthetic_messages,
                synthetic_files: self.synthetic_files,
                content_seed: self.content_seed,
            },
        }
    }
}

pub(crate) async fn run(args: SimArgs) -> anyhow::Result<()> {
    crate::settings::init_logging(&std::env::var("OPENVBO_LOG").unwrap_or_else(|_| "info".into()));
    let tenants = args.tenants()?;
    let mut names: Vec<String> = tenants
        .iter()
        .take(5)
        .map(|t| t.initial_domain.clone())
        .collect();
    if tenants.len() > 5 {
        names.push(format!("… ({} tenants)", tenants.len()));
    }
    let sim = Simulator::new(tenants, args.options())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "Microsoft 365 simulator listening on http://{addr} with tenants: {}",
        names.join(", ")
    );
    println!("Point openvbo at it: --m365-login-url http://{addr} --m365-graph-url http://{addr}");
    sim.serve(listener, crate::settings::shutdown_signal())
        .await?;
    Ok(())
}
