//! `webconf`: the command line. Parses arguments, loads the configuration, calls
//! [`webconf_server::run`].

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use webconf_server::config::Config;

#[derive(Parser)]
#[command(
    name = "webconf",
    version,
    about = "Sovereign web conferencing: web app, signaling and SFU in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (HTTPS on 0.0.0.0:8443 and UDP 10000-10010 by default).
    Serve {
        /// TOML configuration file; built-in defaults when absent.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Check a configuration file and print the resulting configuration.
    CheckConfig {
        /// TOML configuration file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,str0m=warn")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config } => {
            let config = Config::load(config.as_deref())?;
            webconf_server::run(config, shutdown_signal()).await
        }
        Command::CheckConfig { config } => {
            let config = Config::load(config.as_deref())?;
            println!("{config:#?}");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
