//! TLS for https fetches when the config lists its own CAs
//! (`ignition.security.tls.certificateAuthorities`).
//!
//! Trust is what reqwest gives by default (the system's CAs, verified by
//! rustls-platform-verifier) plus the config's CAs, with one exception that Ignition 2.26
//! has and rustls lacks: a server whose certificate *is* one of the config's CAs. That is
//! what `openssl req -x509` makes by default (a self-signed certificate with `CA:TRUE`),
//! and Go's verifier accepts it when it is among the trusted roots; webpki refuses it with
//! `CaUsedAsEndEntity`. Kindling accepts exactly that case and nothing wider:
//!
//! - the normal verification must have failed with `CaUsedAsEndEntity` (so the certificate
//!   parsed, and is within its validity period, which webpki checks first);
//! - the server's certificate must be byte for byte one of the config's CA certificates
//!   (not merely issued by one, and never one of the system's CAs);
//! - it must be valid for the host name (or IP address) in the URL and for the current
//!   time, checked again here;
//! - the handshake signature is verified with its key as for any other certificate.

use std::sync::Arc;

use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// The rustls client configuration for https with the config's CAs (DER).
pub(super) fn client_config(
    config_cas: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = rustls_platform_verifier::Verifier::new_with_extra_roots(
        config_cas.clone(),
        provider.clone(),
    )?;
    let verifier = ConfigCaVerifier {
        inner,
        anchors: config_cas,
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The platform verifier, plus the one exception described in the module comment.
#[derive(Debug)]
struct ConfigCaVerifier {
    inner: rustls_platform_verifier::Verifier,
    /// The config's CA certificates, as DER.
    anchors: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for ConfigCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e)
                if is_ca_used_as_end_entity(&e)
                    && self
                        .anchors
                        .iter()
                        .any(|a| a.as_ref() == end_entity.as_ref()) =>
            {
                check_anchor_as_leaf(end_entity, server_name, now)?;
                log::info!(
                    "the server {} presented one of the config's CA certificates as its own; accepted, as Ignition does",
                    server_name.to_str()
                );
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn is_ca_used_as_end_entity(err: &rustls::Error) -> bool {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

/// The checks a leaf still gets when it is itself a trusted CA: the name and the validity
/// period.
fn check_anchor_as_leaf(
    der: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let parsed = rustls::server::ParsedCertificate::try_from(der)?;
    rustls::client::verify_server_name(&parsed, server_name)?;
    let bad = |_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding);
    let cert = X509::from_der(der.as_ref()).map_err(bad)?;
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let now = Asn1Time::from_unix(secs).map_err(bad)?;
    if cert.not_before() > now {
        return Err(CertificateError::NotValidYet.into());
    }
    if cert.not_after() < now {
        return Err(CertificateError::Expired.into());
    }
    Ok(())
}
