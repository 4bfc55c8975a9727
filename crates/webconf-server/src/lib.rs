//! The webconf server: the I/O shell around the sans-IO cores.
//!
//! - [`config`]: the TOML configuration, defaults, environment overrides, validation.
//! - [`tls`]: the certificate (self-signed on first start, or files) and the rustls setup.
//! - [`http`]: the axum router ([`http::app`]) and security headers; [`assets`] serves the
//!   browser client; [`ws`] is the signaling WebSocket; [`pages`] renders the FAQ, contact and
//!   legal notice pages.
//! - [`engine`]: the one task that owns the rooms and the media core.
//! - [`probe`]: `POST /api/probe`, the connection test page's media probe (a session in the
//!   media core outside every room, [`engine::probe`]).
//! - [`media_io`]: the UDP sockets.
//!
//! [`run`] wires them together; `main.rs` only parses the command line.

pub mod assets;
pub mod auth;
pub mod config;
pub mod engine;
pub mod http;
pub mod identity;
pub mod invite;
pub mod mail;
pub mod pages;
pub mod password;
pub mod probe;
pub mod media_io;
pub mod netinfo;
pub mod tls;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tracing::{info, warn};
use webconf_media::{Sfu, SfuConfig};
use webconf_room::RoomPolicy;

use crate::config::Config;
use crate::engine::{Engine, EngineConfig};
use crate::http::AppState;

/// Depth of the engine's signaling queue.
const COMMAND_QUEUE: usize = 4096;
/// Depth of the engine's datagram queue; beyond it datagrams are dropped, like a full NIC.
const DATAGRAM_QUEUE: usize = 16384;

/// Binds everything, then serves until `shutdown` completes.
pub async fn run(mut config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    // The TCP listener first: with `http.listen` on port 0 the real port is known only once
    // bound, and the FAQ and `GET /api/network` must name it. The configuration in force then
    // records what is really used: that address, and the resolved media addresses (read from
    // the interfaces once, here).
    let listener = std::net::TcpListener::bind(config.http.listen)
        .with_context(|| format!("cannot listen on {} (http.listen)", config.http.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    config.http.listen = local;
    config.media.addresses = config.media.resolved_addresses();
    let config = Arc::new(config);
    // Before the media sockets, so that an unreadable page file stops the server before they are bound.
    let pages = Arc::new(pages::Pages::load(&config)?);
    let addresses = config.media.resolved_addresses();
    let sockets = media_io::bind(&addresses, config.media.ports()).await?;
    info!(
        addresses = ?addresses,
        ports = format!("{}-{}", config.media.port_min, config.media.port_max),
        "media sockets bound"
    );

    let sfu = Sfu::new(SfuConfig {
        addresses: addresses.clone(),
        ports: config.media.ports().collect(),
        ..SfuConfig::default()
    });
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (dg_tx, dg_rx) = mpsc::channel(DATAGRAM_QUEUE);
    media_io::spawn_readers(&sockets, dg_tx);
    let r = &config.rooms;
    let engine_config = EngineConfig {
        max_participants: config.media.max_participants as usize,
        rooms: RoomPolicy {
            waiting_timeout: Duration::from_secs(r.waiting_timeout_secs),
            idle: Duration::from_secs(r.idle_secs),
            max_duration: Duration::from_secs(r.max_duration_secs),
            warning: Duration::from_secs(r.warning_secs),
        },
        unknown_room_joins_per_minute: r.unknown_room_joins_per_ip_per_minute,
        probes: engine::probe::ProbeLimits::default(),
    };
    let engine = Engine::new(sfu, sockets, engine_config, cmd_tx.clone());
    tokio::spawn(engine.run(cmd_rx, dg_rx));

    let tls = tls::server_config(&config).context("TLS setup")?;
    let auth = Arc::new(auth::AuthState::new(&config)?);
    let state = AppState { config: config.clone(), tls: tls.is_some(), commands: cmd_tx, auth, pages };
    let app = http::app(state).into_make_service_with_connect_info::<SocketAddr>();

    let scheme = if tls.is_some() { "https" } else { "http" };
    info!("listening on {scheme}://{local}");
    if local.ip().is_unspecified() {
        info!("open https://localhost:{} in a browser", local.port());
    }

    match tls {
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(2)));
            });
            axum_server::from_tcp_rustls(listener, axum_server::tls_rustls::RustlsConfig::from_config(tls))
                .handle(handle)
                .serve(app)
                .await?;
        }
        None => {
            warn!("plain HTTP: run behind a reverse proxy that terminates TLS");
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
        }
    }
    Ok(())
}
