//! TLS for the HTTP listener: a rustls `ServerConfig` from PEM files or from a self-signed
//! certificate that is generated once and kept in `<data_dir>/tls/`.
//!
//! Invariants: the only crypto library is aws-lc (`rustls::crypto::aws_lc_rs`), TLS 1.2 is the
//! minimum, ALPN offers only `http/1.1` (the signaling WebSocket is an HTTP/1.1 upgrade), and
//! private keys are never logged.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::string::Ia5String;
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use rustls::version::{TLS12, TLS13};
use rustls::ServerConfig;

use crate::config::{Config, TlsMode};

/// How long a generated certificate is valid.
const VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// A stored self-signed certificate this close to expiry is replaced at start-up.
const RENEW_BEFORE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why TLS could not be set up. Messages name the file and what was wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("cannot {action} {what} {}: {source}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// Which file this is, e.g. `http.cert_file`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A file was read but holds no usable certificate or key.
    #[error("{what} {}: {reason}", path.display())]
    BadPem {
        /// Which file this is, e.g. `http.key_file`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// The private key is not the one the certificate was issued for.
    #[error("the key in {} does not match the certificate in {}; use the key the certificate was issued for (for the self-signed certificate, delete both files to get a new pair)", key.display(), cert.display())]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rcgen failed to generate the self-signed certificate.
    #[error("cannot generate the self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Builds the rustls configuration for the HTTP listener, or `None` when `http.tls = "off"`.
/// Call once at start-up, after [`Config::load`]; in self-signed mode this may write
/// `<data_dir>/tls/cert.pem` and `key.pem`.
pub fn server_config(cfg: &Config) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let (chain, key, cert_path, key_path) = match cfg.http.tls {
        TlsMode::Off => return Ok(None),
        TlsMode::Files => {
            let (cert_path, key_path) = (&cfg.http.cert_file, &cfg.http.key_file);
            let chain = parse_chain(
                "http.cert_file",
                cert_path,
                &read("http.cert_file", cert_path)?,
            )?;
            let key = parse_key("http.key_file", key_path, &read("http.key_file", key_path)?)?;
            (chain, key, cert_path.clone(), key_path.clone())
        }
        TlsMode::SelfSigned => {
            let dir = cfg.data_dir.join("tls");
            let (chain, key) = self_signed(&dir, &subject_alt_names(cfg), SystemTime::now())?;
            (chain, key, dir.join("cert.pem"), dir.join("key.pem"))
        }
    };
    if let Some(leaf) = chain.first() {
        tracing::info!(
            "TLS certificate {} SHA-256 fingerprint {}",
            cert_path.display(),
            fingerprint_sha256(leaf)
        );
    }
    let mut config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_protocol_versions(&[&TLS13, &TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
                cert: cert_path,
                key: key_path.clone(),
            },
            e => TlsError::BadPem {
                what: "key file",
                path: key_path.clone(),
                reason: e.to_string(),
            },
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}

/// SHA-256 of a certificate, as colon-separated upper-case hex: the form browsers show in
/// their certificate viewer, so users can check a self-signed certificate before trusting it.
pub fn fingerprint_sha256(cert: &CertificateDer<'_>) -> String {
    // The hash comes from the aws-lc provider's SHA-256 suite rather than another crate.
    let Some(suite) = aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256.tls13() else {
        return String::new();
    };
    let digest = suite.common.hash_provider.hash(cert.as_ref());
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Names the self-signed certificate is valid for: localhost, the loopback addresses, the
/// machine's host name and the media addresses (the server's own IPs, the likely URLs).
fn subject_alt_names(cfg: &Config) -> Vec<SanType> {
    let mut names: Vec<SanType> = ["localhost".try_into().ok(), hostname()]
        .into_iter()
        .flatten()
        .map(SanType::DnsName)
        .collect();
    let ips = [[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
    for ip in ips.into_iter().chain(cfg.media.resolved_addresses()) {
        if !names.contains(&SanType::IpAddress(ip)) {
            names.push(SanType::IpAddress(ip));
        }
    }
    names
}

/// The machine's host name from /etc/hostname or `$HOSTNAME`, if it is a usable DNS name.
fn hostname() -> Option<Ia5String> {
    let name = fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())?;
    let name = name.trim().to_ascii_lowercase();
    let usable = !name.is_empty()
        && name != "localhost"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    usable.then(|| Ia5String::try_from(name).ok()).flatten()
}

/// Returns the certificate kept in `dir`, generating and storing a new one when there is none,
/// it cannot be parsed, or it expires within [`RENEW_BEFORE`] of `now`.
fn self_signed(
    dir: &Path,
    names: &[SanType],
    now: SystemTime,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if let (Some(cert_pem), Some(key_pem)) =
        (read_if_exists(&cert_path)?, read_if_exists(&key_path)?)
    {
        let stored = parse_chain("self-signed certificate", &cert_path, &cert_pem)
            .and_then(|chain| Ok((chain, parse_key("self-signed key", &key_path, &key_pem)?)));
        match stored {
            Ok((chain, key)) => {
                let fresh = chain
                    .first()
                    .and_then(|c| not_after(c))
                    .is_some_and(|end| end > now + RENEW_BEFORE);
                // A crash between the two renames below can leave a new key beside an old
                // certificate: treat a mismatched pair like a missing one.
                let provider = aws_lc_rs::default_provider();
                let paired =
                    CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).is_ok();
                if fresh && paired {
                    tracing::info!("using the self-signed certificate in {}", dir.display());
                    return Ok((chain, key));
                }
                tracing::info!(
                    "the self-signed certificate in {} expires soon or does not match its key; \
                     generating a new one",
                    dir.display()
                );
            }
            Err(e) => tracing::warn!("{e}; generating a new self-signed certificate"),
        }
    }

    let key_pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "webconf self-signed");
    params.subject_alt_names = names.to_vec();
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    // Back-date by an hour so a browser whose clock is slightly behind accepts it.
    params.not_before = epoch + since_epoch.saturating_sub(Duration::from_secs(3600));
    params.not_after = epoch + since_epoch + VALIDITY;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key_pair)?;

    fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        action: "write",
        what: "directory",
        path: dir.to_owned(),
        source,
    })?;
    write_file(&key_path, &key_pair.serialize_pem(), true)?;
    write_file(&cert_path, &cert.pem(), false)?;
    tracing::info!("generated a self-signed certificate in {}", dir.display());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    Ok((vec![cert.der().clone()], key))
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|source| TlsError::Io {
        action: "read",
        what,
        path: path.to_owned(),
        source,
    })
}

/// Like [`read`], but a missing file is `None` (first start) rather than an error.
fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, TlsError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::Io {
            action: "read",
            what: "file",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes through a temporary file and a rename, so a crash never leaves half a key behind.
/// `private` files are readable by the owner only (mode 0600 on unix).
fn write_file(path: &Path, contents: &str, private: bool) -> Result<(), TlsError> {
    let tmp = path.with_extension("pem.tmp");
    let write = || -> io::Result<()> {
        let _ = fs::remove_file(&tmp);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut file = options.open(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|source| TlsError::Io {
        action: "write",
        what: "file",
        path: path.to_owned(),
        source,
    })
}

fn parse_chain(
    what: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |reason: String| TlsError::BadPem {
        what,
        path: path.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a valid PEM file ({e})")))?;
    if chain.is_empty() {
        return Err(bad(
            "contains no \"BEGIN CERTIFICATE\" block; expected a PEM certificate chain, leaf first"
                .into(),
        ));
    }
    Ok(chain)
}

fn parse_key(
    what: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsError::BadPem {
        what,
        path: path.to_owned(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => "contains no private key; expected a PEM block \"BEGIN PRIVATE KEY\", \"BEGIN EC PRIVATE KEY\" or \"BEGIN RSA PRIVATE KEY\"".into(),
            e => format!("not a valid PEM private key ({e})"),
        },
    })
}

/// The end of a certificate's validity, read from its DER. `None` if it cannot be parsed or
/// ends before 1970.
fn not_after(cert: &CertificateDer<'_>) -> Option<SystemTime> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let secs = u64::try_from(parsed.validity().not_after.timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MediaConfig;

    /// A fresh empty directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            let dir = std::env::temp_dir()
                .join(format!("webconf-tls-{name}-{}-{nanos}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Self-signed mode in `data_dir`, with a fixed media address so the certificate does not
    /// depend on the test machine's interfaces.
    fn config(data_dir: &Path) -> Config {
        let addresses = vec!["192.0.2.10".parse().unwrap()];
        let media = MediaConfig {
            addresses,
            ..MediaConfig::default()
        };
        Config {
            data_dir: data_dir.to_owned(),
            media,
            ..Config::default()
        }
    }

    #[test]
    fn self_signed_is_generated_once_then_reused() {
        let tmp = TempDir::new("reuse");
        let cfg = config(&tmp.0);
        let first = server_config(&cfg).unwrap().expect("TLS is on");
        assert_eq!(first.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let cert = fs::read(tmp.0.join("tls/cert.pem")).unwrap();
        let key = fs::read(tmp.0.join("tls/key.pem")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(tmp.0.join("tls/key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        server_config(&cfg).unwrap().expect("TLS is on");
        assert_eq!(fs::read(tmp.0.join("tls/cert.pem")).unwrap(), cert);
        assert_eq!(fs::read(tmp.0.join("tls/key.pem")).unwrap(), key);
    }

    #[test]
    fn generated_certificate_lasts_a_year() {
        let tmp = TempDir::new("validity");
        let now = SystemTime::now();
        let (chain, _) = self_signed(&tmp.0, &subject_alt_names(&config(&tmp.0)), now).unwrap();
        let end = not_after(&chain[0]).unwrap();
        let expected = now + VALIDITY;
        let diff = end
            .duration_since(expected)
            .unwrap_or_else(|e| e.duration());
        assert!(diff < Duration::from_secs(5), "not_after off by {diff:?}");
        assert_eq!(fingerprint_sha256(&chain[0]).len(), 32 * 3 - 1);
    }

    /// Runs an in-memory handshake with a rustls client that trusts only `cert`; returns the
    /// negotiated ALPN protocol and TLS version.
    fn handshake(
        server: Arc<ServerConfig>,
        cert: &CertificateDer<'static>,
        name: &'static str,
        version: &'static rustls::SupportedProtocolVersion,
    ) -> Result<(Option<Vec<u8>>, Option<rustls::ProtocolVersion>), rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone())?;
        let mut client =
            rustls::ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_protocol_versions(&[version])?
                .with_root_certificates(roots)
                .with_no_client_auth();
        client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let name = rustls::pki_types::ServerName::try_from(name).expect("valid name");
        let mut client = rustls::ClientConnection::new(Arc::new(client), name)?;
        let mut server = rustls::ServerConnection::new(server)?;
        for _ in 0..10 {
            let mut bytes = Vec::new();
            client.write_tls(&mut bytes).unwrap();
            server.read_tls(&mut bytes.as_slice()).unwrap();
            server.process_new_packets()?;
            bytes.clear();
            server.write_tls(&mut bytes).unwrap();
            client.read_tls(&mut bytes.as_slice()).unwrap();
            client.process_new_packets()?;
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());
        Ok((
            server.alpn_protocol().map(<[u8]>::to_vec),
            server.protocol_version(),
        ))
    }

    #[test]
    fn browsers_can_connect_by_name_and_address() {
        let tmp = TempDir::new("handshake");
        let server = server_config(&config(&tmp.0)).unwrap().expect("TLS is on");
        let pem = fs::read(tmp.0.join("tls/cert.pem")).unwrap();
        let cert = CertificateDer::from_pem_slice(&pem).unwrap();
        for name in ["localhost", "127.0.0.1", "::1", "192.0.2.10"] {
            let (alpn, version) = handshake(server.clone(), &cert, name, &TLS13).unwrap();
            assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]), "{name}");
            assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_3));
        }
        let (_, version) = handshake(server.clone(), &cert, "localhost", &TLS12).unwrap();
        assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_2));
        assert!(
            handshake(server, &cert, "192.0.2.99", &TLS13).is_err(),
            "not in the certificate"
        );
    }

    #[test]
    fn expiring_certificate_is_replaced() {
        let tmp = TempDir::new("expiry");
        let names = subject_alt_names(&config(&tmp.0));
        let long_ago = SystemTime::now() - VALIDITY + Duration::from_secs(3 * 24 * 3600);
        let (old, _) = self_signed(&tmp.0, &names, long_ago).unwrap();
        let (new, _) = self_signed(&tmp.0, &names, SystemTime::now()).unwrap();
        assert_ne!(old, new);
        let (again, _) = self_signed(&tmp.0, &names, SystemTime::now()).unwrap();
        assert_eq!(new, again);
    }

    #[test]
    fn mismatched_stored_pair_is_replaced() {
        let (a, b) = (TempDir::new("pair-a"), TempDir::new("pair-b"));
        server_config(&config(&a.0)).unwrap();
        server_config(&config(&b.0)).unwrap();
        fs::copy(b.0.join("tls/key.pem"), a.0.join("tls/key.pem")).unwrap();
        let old = fs::read(a.0.join("tls/cert.pem")).unwrap();
        server_config(&config(&a.0)).expect("a new pair is generated");
        assert_ne!(fs::read(a.0.join("tls/cert.pem")).unwrap(), old);
    }

    #[test]
    fn files_mode_uses_the_given_files() {
        let tmp = TempDir::new("files");
        server_config(&config(&tmp.0)).unwrap();
        let mut cfg = config(&tmp.0.join("unused"));
        cfg.http.tls = TlsMode::Files;
        cfg.http.cert_file = tmp.0.join("tls/cert.pem");
        cfg.http.key_file = tmp.0.join("tls/key.pem");
        assert!(server_config(&cfg).unwrap().is_some());
        assert!(
            !tmp.0.join("unused").exists(),
            "files mode must not generate anything"
        );
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let tmp = TempDir::new("bad");
        server_config(&config(&tmp.0)).unwrap();
        let garbage = tmp.0.join("garbage.pem");
        fs::write(&garbage, "this is not a key\n").unwrap();
        let mut cfg = config(&tmp.0);
        cfg.http.tls = TlsMode::Files;
        cfg.http.cert_file = tmp.0.join("tls/cert.pem");
        cfg.http.key_file = garbage.clone();
        let e = server_config(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("http.key_file")
                && e.contains("garbage.pem")
                && e.contains("no private key"),
            "{e}"
        );

        cfg.http.key_file = tmp.0.join("tls/key.pem");
        cfg.http.cert_file = garbage;
        let e = server_config(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("http.cert_file") && e.contains("BEGIN CERTIFICATE"),
            "{e}"
        );

        cfg.http.cert_file = tmp.0.join("missing.pem");
        let e = server_config(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("cannot read http.cert_file") && e.contains("missing.pem"),
            "{e}"
        );

        let other = TempDir::new("other");
        server_config(&config(&other.0)).unwrap();
        cfg.http.cert_file = other.0.join("tls/cert.pem");
        let e = server_config(&cfg).unwrap_err();
        assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e}");
    }

    #[test]
    fn off_mode_has_no_tls() {
        let mut cfg = Config::default();
        cfg.http.tls = TlsMode::Off;
        assert!(server_config(&cfg).unwrap().is_none());
    }

    #[test]
    fn not_after_is_none_for_what_is_not_a_certificate() {
        assert_eq!(
            not_after(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00])),
            None
        );
        assert_eq!(not_after(&CertificateDer::from(Vec::new())), None);
    }
}
