//! TLS against a real HTTPS server on loopback, with a private CA made in
//! the test: certificates are verified by default, `target.ca_file` trusts
//! a private CA, `target.insecure: true` turns checks off and says so.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use common::{drill_file, firedrill, read_record, write_drill};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// An HTTPS server on 127.0.0.1 with a certificate from a CA of its own,
/// answering `{"status":"ok"}` to every request.
struct TlsServer {
    url: String,
    /// The CA's certificate, PEM.
    ca_pem: String,
}

fn tls_server() -> TlsServer {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "firedrill test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(stream) = stream else { return };
            let config = config.clone();
            std::thread::spawn(move || {
                let timeout = Some(std::time::Duration::from_secs(10));
                let _ = stream.set_read_timeout(timeout);
                let _ = stream.set_write_timeout(timeout);
                let Ok(connection) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        // A client that refused the certificate ends here.
                        _ => return,
                    }
                }
                let body = br#"{"status":"ok"}"#;
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(body);
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    TlsServer {
        url,
        ca_pem: ca_cert.pem(),
    }
}

/// A plain-HTTP server on 127.0.0.1 that answers every request with a
/// redirect to `to` (an `https://` URL) plus the request's path; returns
/// its own `http://` URL.
fn redirect_server(to: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let to = to.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split(' ').nth(1).unwrap_or("/");
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {to}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    url
}

/// Runs a one-step drill against the server with these `target` fields;
/// returns (exit code, stderr, record or null).
fn run(dir: &Path, server: &TlsServer, target: &str) -> (i32, String, serde_json::Value) {
    run_with(dir, server, target, &[])
}

/// [`run`] with extra environment.
fn run_with(
    dir: &Path,
    server: &TlsServer,
    target: &str,
    envs: &[(&str, &str)],
) -> (i32, String, serde_json::Value) {
    let drill = drill_file(dir, "tls/tls", &[("URL", &server.url), ("TARGET", target)]);
    let report = dir.join("record.json");
    let _ = std::fs::remove_file(&report);
    let output = firedrill()
        .envs(envs.iter().copied())
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let record = if report.exists() {
        read_record(&report)
    } else {
        serde_json::Value::Null
    };
    (output.status.code().unwrap_or(-1), stderr, record)
}

#[test]
fn certificates_are_verified_by_default() {
    let server = tls_server();
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, record) = run(dir.path(), &server, "");
    assert_eq!(code, 1, "{stderr}");
    let error = record["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("certificate"), "{error}");
    assert!(error.contains("target.ca_file"), "{error}");
    eprintln!("{error}");
    assert_eq!(record["warnings"], serde_json::json!([]), "{record}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_custom_ca_file_is_trusted() {
    let server = tls_server();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let (code, stderr, record) = run(
        dir.path(),
        &server,
        &format!(", ca_file: \"{}\"", ca.display()),
    );
    assert_eq!(code, 0, "{stderr}\n{record}");
    assert_eq!(record["steps"][0]["outcome"], "passed");
    assert_eq!(record["warnings"], serde_json::json!([]), "{record}");
}

#[test]
fn insecure_is_an_explicit_opt_in_that_warns_on_stderr_and_in_the_record() {
    let server = tls_server();
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, record) = run(dir.path(), &server, ", insecure: true");
    assert_eq!(code, 0, "{stderr}\n{record}");
    assert!(
        stderr.contains("warning: target.insecure is true: TLS certificates are not verified"),
        "{stderr}"
    );
    let warnings = record["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{record}");
    assert!(
        warnings[0].as_str().unwrap().contains("not verified"),
        "{record}"
    );
    // The Markdown report says so too.
    let output = firedrill()
        .args(["report", "--format", "markdown"])
        .arg(dir.path().join("record.json"))
        .output()
        .unwrap();
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(
        markdown.contains("**Warning:** target.insecure is true"),
        "{markdown}"
    );
}

#[test]
fn a_bad_ca_file_is_a_located_error_before_anything_is_sent() {
    let server = tls_server();
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, record) = run(dir.path(), &server, ", ca_file: missing-ca.pem");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("tls.yaml:2:")
            && stderr.contains("target.ca_file `missing-ca.pem`: cannot read it"),
        "{stderr}"
    );
    assert!(record.is_null());

    std::fs::write(dir.path().join("junk.pem"), "not a certificate\n").unwrap();
    let junk = dir.path().join("junk.pem");
    let (code, stderr, _) = run(
        dir.path(),
        &server,
        &format!(", ca_file: \"{}\"", junk.display()),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds no certificate"), "{stderr}");

    // Both settings at once: `check` says the CA file would be unused.
    let drill = write_drill(
        dir.path(),
        "both.yaml",
        "drill: both\ntarget: { base_url: \"https://127.0.0.1:1\", insecure: true, ca_file: ca.pem }\nsteps:\n  - http: { url: / }\n",
    );
    let output = firedrill().arg("check").arg(&drill).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("both.yaml:2:60: `ca_file` is unused"),
        "{stderr}"
    );
}

/// An empty container image has no CA certificates: firedrill still runs,
/// plain HTTP works, `ca_file` is trusted, and without it HTTPS fails the
/// certificate check (never a silent pass).
#[test]
fn a_system_without_ca_certificates_still_runs() {
    let server = tls_server();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-certs");
    std::fs::create_dir(&empty).unwrap();
    let missing = empty.join("none.pem");
    let no_system_roots = [
        ("SSL_CERT_FILE", missing.to_str().unwrap()),
        ("SSL_CERT_DIR", empty.to_str().unwrap()),
    ];
    let (code, stderr, record) = run_with(dir.path(), &server, "", &no_system_roots);
    assert_eq!(code, 1, "{stderr}");
    let error = record["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("certificate"), "{error}");

    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let (code, stderr, record) = run_with(
        dir.path(),
        &server,
        &format!(", ca_file: \"{}\"", ca.display()),
        &no_system_roots,
    );
    assert_eq!(code, 0, "{stderr}\n{record}");
}

/// A target on plain HTTP that redirects to HTTPS: the certificate at the
/// HTTPS end is checked all the same (the system's CA certificates are
/// read at the first TLS handshake, not when the run starts, so a drill
/// whose URLs are all `http://` must still get them here), and
/// `target.ca_file` still trusts a private CA there.
#[test]
fn an_http_to_https_redirect_still_verifies_certificates() {
    let server = tls_server();
    let redirecting = TlsServer {
        url: redirect_server(&server.url),
        ca_pem: server.ca_pem.clone(),
    };
    assert!(redirecting.url.starts_with("http://"));
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, record) = run(dir.path(), &redirecting, "");
    assert_eq!(code, 1, "{stderr}\n{record}");
    let error = record["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("certificate"), "{error}");
    assert_eq!(record["warnings"], serde_json::json!([]), "{record}");

    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let (code, stderr, record) = run(
        dir.path(),
        &redirecting,
        &format!(", ca_file: \"{}\"", ca.display()),
    );
    assert_eq!(code, 0, "{stderr}\n{record}");
    assert_eq!(record["steps"][0]["outcome"], "passed");
}
