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
//! - [`media_io`]: the UDP sockets, read in batches and handed to the engine through
//!   [`media_queue`]; [`udp_send`] sends the engine's datagrams; [`zones_media`]: which of their addresses each network
//!   zone's participants are given.
//! - [`listener`]: the one TCP port, shared by HTTPS and ICE-TCP media ([`demux`] tells them
//!   apart by the first byte; [`tcp_media`] runs the ICE-TCP connections).
//!
//! [`run`] wires them together; `main.rs` only parses the command line.

pub mod assets;
pub mod auth;
pub mod config;
pub mod demux;
pub mod engine;
pub mod http;
pub mod identity;
pub mod invite;
pub mod listener;
pub mod mail;
pub mod media_io;
pub mod media_queue;
pub mod netinfo;
pub mod pages;
pub mod password;
pub mod probe;
pub mod tcp_media;
pub mod tls;
pub mod udp_send;
pub mod ws;
pub mod zones_media;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};
use webconf_media::{Sfu, SfuConfig};
use webconf_room::RoomPolicy;

use crate::config::Config;
use crate::engine::{Engine, EngineConfig};
use crate::http::AppState;

/// Depth of the engine's signaling queue.
const COMMAND_QUEUE: usize = 4096;
/// Depth of the engine's datagram queue, in datagrams (however batched); beyond it datagrams
/// are dropped, like a full NIC.
/// About 50 to 100 ms of what one core forwards: an overloaded server shows loss (which the
/// browsers repair or adapt to) rather than seconds of delay, and the queue holds at most
/// ~3 MB of datagrams (16384 held 20 MB and a second of latency, docs/benchmarks.md).
const DATAGRAM_QUEUE: usize = 2048;

/// Binds everything, then serves until `shutdown` completes.
pub async fn run(
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
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
    // `media.addresses` (the internet zone's) plus the zones' own `media_addresses`: each
    // distinct address gets its own sockets, so zones never share one.
    let zone_media = Arc::new(zones_media::ZoneMedia::new(
        &config.access,
        config.media.resolved_addresses(),
    ));
    let addresses = zone_media.all();
    let sockets = media_io::bind(&addresses, config.media.ports()).await?;
    info!(
        addresses = ?addresses,
        ports = format!("{}-{}", config.media.port_min, config.media.port_max),
        "media sockets bound"
    );

    // ICE-TCP on the HTTPS port: the fallback of browsers whose UDP is blocked.
    let ice_tcp_port = config.media.ice_tcp_port(local);
    let sfu = Sfu::new(SfuConfig {
        tcp_port: ice_tcp_port,
        addresses: addresses.clone(),
        ports: config.media.ports().collect(),
        last_n: config.media.last_n as usize,
        // `media.bandwidth_estimation` (docs/architecture.md, "Media policy"); off: layers
        // follow each subscriber's tile sizes only.
        initial_estimate: if config.media.bandwidth_estimation {
            SfuConfig::default().initial_estimate
        } else {
            None
        },
        // Without estimation no probe pads with cached packets: keep them for NACKs only.
        retransmit_window: if config.media.bandwidth_estimation {
            SfuConfig::default().retransmit_window
        } else {
            webconf_media::RETRANSMIT_WINDOW_WITHOUT_ESTIMATION
        },
        ..SfuConfig::default()
    });
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (dg_tx, dg_rx) = media_queue::channel(DATAGRAM_QUEUE);
    media_io::spawn_readers(&sockets, dg_tx.clone());
    let tcp_conns = tcp_media::TcpConns::default();
    let tcp_media = ice_tcp_port.map(|port| {
        info!(port, "ICE-TCP media accepted on the HTTPS port");
        let limits = tcp_media::TcpLimits {
            // Browsers open one connection per local interface that can reach us.
            max_connections: (config.media.max_participants as usize)
                .saturating_mul(2)
                .max(64),
            ..tcp_media::TcpLimits::default()
        };
        Arc::new(tcp_media::TcpMedia::new(
            tcp_conns.clone(),
            port,
            limits,
            dg_tx.clone(),
        ))
    });
    drop(dg_tx);
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
        resume_grace: Duration::from_secs(config.signaling.resume_grace_secs),
        probes: engine::probe::ProbeLimits::default(),
    };
    let engine = Engine::new(sfu, sockets, engine_config, cmd_tx.clone())
        .with_tcp(tcp_conns)
        .with_zone_media(zone_media);
    tokio::spawn(engine.run(cmd_rx, dg_rx));

    let tls = tls::server_config(&config).context("TLS setup")?;
    let auth = Arc::new(auth::AuthState::new(&config)?);
    auth::spawn_purge(auth.clone(), auth::PURGE_EVERY);
    let state = AppState {
        config: config.clone(),
        tls: tls.is_some(),
        commands: cmd_tx,
        auth,
        pages,
    };
    let app = http::app(state).into_make_service_with_connect_info::<SocketAddr>();

    let scheme = if tls.is_some() { "https" } else { "http" };
    info!("listening on {scheme}://{local}");
    if local.ip().is_unspecified() {
        info!("open https://localhost:{} in a browser", local.port());
    }

    let http = match tls {
        Some(tls) => listener::Http::Tls(tokio_rustls::TlsAcceptor::from(tls)),
        None => {
            warn!("plain HTTP: run behind a reverse proxy that terminates TLS");
            listener::Http::Plain
        }
    };
    let listener = listener::spawn(
        tokio::net::TcpListener::from_std(listener)?,
        http,
        tcp_media,
    )?;
    // Graceful shutdown: stop accepting, let requests in flight end, but give long-lived
    // connections (WebSockets) only 2 s.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await.map(|_| ());
    };
    let serve =
        axum::serve(listener.tap_io(|_| {}), app).with_graceful_shutdown(stopped(stop_rx.clone()));
    tokio::select! {
        served = std::future::IntoFuture::into_future(serve) => served?,
        () = async {
            stopped(stop_rx).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        } => {}
    }
    Ok(())
}
