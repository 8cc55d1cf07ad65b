//! `djx ui`: serves a read-only web view of the store (experiments, job
//! tables, plots, jobs, lineage) until interrupted.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use clap::Args;
use djx_host::content::artifacts::ArtifactStore;
use djx_host::store::postgres::PgConfig;
use djx_host::web::{self, StoreAccess, Token};

use super::common::{DATABASE, layout, open_store};

/// Arguments of `djx ui`.
#[derive(Args)]
pub struct UiArgs {
    /// The address to listen on (`localhost` is 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1", value_parser = parse_addr)]
    bind: IpAddr,
    /// The port (0: any free port).
    #[arg(long, default_value_t = 8470)]
    port: u16,
    /// Serve without a token (only on a loopback address).
    #[arg(long)]
    no_token: bool,
}

fn parse_addr(text: &str) -> Result<IpAddr, String> {
    if text == "localhost" {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0)"))
}

/// Runs `djx ui`.
pub fn run(args: UiArgs) -> anyhow::Result<()> {
    if args.no_token && !args.bind.is_loopback() {
        bail!(
            "--no-token is only allowed on a loopback address (127.0.0.1, ::1): on {} anyone who can reach the port could read every result",
            args.bind
        );
    }
    let layout = layout()?;
    let url = DATABASE.get().and_then(Option::as_deref);
    let name = match PgConfig::from_env(url)? {
        Some(config) => config.to_string(),
        None => layout.db.display().to_string(),
    };
    let opener_layout = layout.clone();
    let store = StoreAccess::new(
        name.clone(),
        Box::new(move || open_store(&opener_layout).map_err(|e| format!("{e:#}"))),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("djx-ui")
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(async move {
        let addr = SocketAddr::new(args.bind, args.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr().context("reading the bound address")?;
        let token = if args.no_token {
            None
        } else {
            Some(Token::random(local.port()).context("making the access token")?)
        };
        let host = match local.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        let shown = match &token {
            Some(t) => format!("http://{host}:{}/?token={}", local.port(), t.text()),
            None => format!("http://{host}:{}/", local.port()),
        };
        let router = web::router(web::Config {
            store,
            token,
            artifacts: ArtifactStore::at(&layout.artifacts).with_remote(layout.content.clone()),
        });
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{shown}")?;
            out.flush()?;
        }
        eprintln!("djx ui: serving {name} (read-only) at {shown}; Ctrl-C stops it");
        web::serve(listener, router).await.context("serving")
    })
}
