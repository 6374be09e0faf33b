//! A certificate authority of a test's own, and the server certificates and CA files it makes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority made for one test, and the server certificates it issues.
///
/// Write its certificate to a file with [`TestCa::write_ca_file`] to make a client trust it.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA with a fresh ECDSA P-256 key.
    ///
    /// # Panics
    /// When rcgen cannot make the certificate (it does not happen with these parameters).
    pub fn new() -> TestCa {
        let key = rcgen::KeyPair::generate().expect("a CA key");
        let mut params = rcgen::CertificateParams::default();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Hookshot test CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&key)
            .expect("a self-signed CA certificate");
        TestCa { cert, key }
    }

    /// The CA certificate, PEM-encoded.
    pub fn ca_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate, DER-encoded.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// Writes the CA certificate (PEM) to a fresh file in the temporary directory, removed when
    /// the returned [`CaFile`] is dropped.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write_ca_file(&self) -> CaFile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "hookshot-test-ca-{}-{}.pem",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, self.ca_pem())
            .unwrap_or_else(|e| panic!("writing the test CA to {}: {e}", path.display()));
        CaFile { path }
    }

    /// A rustls server configuration (ring provider, ALPN `h2` and `http/1.1`) with a fresh
    /// certificate for `localhost`, `127.0.0.1` and `::1` issued by this CA.
    ///
    /// # Panics
    /// When rcgen or rustls refuse the certificate (they do not with these parameters).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = rcgen::KeyPair::generate().expect("a server key");
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params.subject_alt_names = vec![
            rcgen::SanType::DnsName("localhost".try_into().expect("an IA5 name")),
            rcgen::SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            rcgen::SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("a server certificate");
        let chain = vec![cert.der().clone(), self.ca_der()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("a usable server certificate");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

/// A temporary file holding a [`TestCa`]'s certificate; removed on drop.
#[derive(Debug)]
pub struct CaFile {
    path: PathBuf,
}

impl CaFile {
    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
