//! The roots a transport trusts: webpki's, the system's, and an optional extra CA file.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::{Error, Result};

/// webpki's roots and the system's, loaded once per process.
fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!(%error, "some of the system's root certificates could not be loaded; using the rest and webpki's roots");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            tracing::info!("no system root certificates found; trusting webpki's roots only");
        }
        tracing::debug!(
            system_roots = added,
            ignored,
            total = roots.len(),
            "TLS roots loaded"
        );
        roots
    })
}

/// Reads the CA certificates of a PEM file into `roots`.
fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<()> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| {
        Error::setup(
            format!("extra CA file {shown}: cannot be read: {e}"),
            Some(Box::new(e)),
        )
    })?;
    let mut count = 0;
    for (i, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let cert = cert.map_err(|e| {
            Error::setup(
                format!(
                    "extra CA file {shown}: certificate #{} is not valid PEM: {e}",
                    i + 1
                ),
                Some(Box::new(e)),
            )
        })?;
        roots.add(cert).map_err(|e| {
            Error::setup(
                format!(
                    "extra CA file {shown}: certificate #{} cannot be used as a CA: {e}",
                    i + 1
                ),
                Some(Box::new(e)),
            )
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(Error::setup(
            format!(
                "extra CA file {shown}: holds no certificate (expected PEM blocks starting with -----BEGIN CERTIFICATE-----)"
            ),
            None,
        ));
    }
    tracing::debug!(file = %shown, certificates = count, "extra CA file trusted");
    Ok(())
}

/// A rustls client configuration on the ring provider, trusting webpki's roots, the system's and
/// the certificates of `extra_ca_file`: the one [`HttpTransport`](crate::HttpTransport) uses, for
/// any other HTTPS client of the same process that must trust the same servers.
///
/// # Errors
/// [`Error::Setup`] when the extra CA file cannot be read or holds no usable certificate.
pub fn client_config(extra_ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let mut roots = base_roots().clone();
    if let Some(path) = extra_ca_file {
        add_ca_file(&mut roots, path)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::setup(format!("TLS protocol versions: {e}"), Some(Box::new(e))))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "hookshot-transport-tls-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn base_roots_include_webpki() {
        assert!(base_roots().len() >= webpki_roots::TLS_SERVER_ROOTS.len());
    }

    #[test]
    fn missing_file_names_the_file() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(err.is_setup());
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/ca.pem"), "{msg}");
        assert!(msg.contains("cannot be read"), "{msg}");
    }

    #[test]
    fn file_without_certificates_is_refused() {
        let path = temp_file("empty.pem", b"just some text\n");
        let err = client_config(Some(&path)).unwrap_err();
        std::fs::remove_file(&path).ok();
        let msg = err.to_string();
        assert!(msg.contains("holds no certificate"), "{msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
    }

    #[test]
    fn broken_pem_is_refused() {
        let path = temp_file(
            "broken.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        );
        let err = client_config(Some(&path)).unwrap_err();
        std::fs::remove_file(&path).ok();
        let msg = err.to_string();
        assert!(msg.contains("certificate #1"), "{msg}");
    }
}
