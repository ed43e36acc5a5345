//! The HTTP client's TLS settings, with the system's CA certificates read
//! at the first TLS handshake rather than when the client is built.
//!
//! reqwest's own rustls set-up reads and parses every certificate under
//! `/etc/ssl/certs` when the client is built: 80% of the instructions of a
//! 10-step `run` over plain HTTP, and their memory for the whole run. Here
//! the same verifier (rustls-platform-verifier: the system's roots plus
//! `target.ca_file`'s) is built on first use, by whatever connection first
//! needs it — a step's `https://` URL or an `http://` one redirected to
//! `https://` — so certificates are checked exactly as before, and a drill
//! that never speaks TLS never reads them.

use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// A rustls client configuration as reqwest makes its own (every TLS
/// version, ALPN `h2` then `http/1.1`, SNI on), verifying certificates
/// against the system's roots and `extra_roots`, loaded on first use.
pub(crate) fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = LazyVerifier {
        provider: provider.clone(),
        extra_roots,
        inner: OnceLock::new(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier, built at the first handshake.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
    inner: OnceLock<Arc<dyn ServerCertVerifier>>,
}

impl LazyVerifier {
    fn inner(&self) -> &dyn ServerCertVerifier {
        self.inner.get_or_init(|| self.build()).as_ref()
    }

    /// The system's roots and `target.ca_file`'s. A system without CA
    /// certificates (an empty container image, say) still gets a verifier:
    /// HTTPS trusts `ca_file` only, and without one fails its certificate
    /// check with a clear error; plain HTTP never comes here.
    fn build(&self) -> Arc<dyn ServerCertVerifier> {
        let platform = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.extra_roots.iter().cloned(),
            self.provider.clone(),
        );
        match platform {
            Ok(verifier) => Arc::new(verifier),
            Err(err) => {
                tracing::warn!(
                    "no usable CA certificates on this system ({err}): HTTPS targets are trusted only through target.ca_file"
                );
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(self.extra_roots.iter().cloned());
                match WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    self.provider.clone(),
                )
                .build()
                {
                    Ok(verifier) => verifier,
                    Err(_) => Arc::new(NoRoots(self.provider.clone())),
                }
            }
        }
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner()
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner().supported_verify_schemes()
    }
}

/// No root to trust at all: every certificate is from an unknown issuer,
/// as webpki says with an empty root store.
#[derive(Debug)]
struct NoRoots(Arc<CryptoProvider>);

impl ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
