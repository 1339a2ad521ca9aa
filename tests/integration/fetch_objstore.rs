//! s3://, arn:aws:s3 and gs:// fetches against real stand-ins on 127.0.0.1: moto's S3 with
//! SigV4 checked (tests/standins/objstore.py), gcp-storage-emulator's JSON API, the metadata
//! stand-in for the instance role and the service account (tests/standins/metadata.py), and
//! scripted servers where an answer must be one the emulators cannot give (an expired token).
//!
//! The emulators come from PyPI through tests/standins/objstore-venv.sh. When they cannot be
//! installed these tests fail: they never pass without having run.

use crate::support;

use std::path::Path;
use std::time::Duration;

use kindling::fetch::cloud::Cloud;
use kindling::fetch::hash::sha512_of;
use kindling::fetch::{FetchError, FetchSettings, Fetcher};
use kindling_spec::types::Resource;
use support::objstore::{gcs, s3};
use support::stage::{assert_fails, assert_ok, stderr, Env};
use support::standin::Standin as Metadata;
use support::Server;

/// An aws metadata stand-in whose role `kindling-node` hands out `credentials`.
fn aws_role_at(credentials: &serde_json::Value) -> Metadata {
    let keep = tempfile::tempdir().expect("tempdir").keep();
    let path = keep.join("credentials.json");
    std::fs::write(&path, credentials.to_string()).expect("credentials");
    Metadata::start_args(
        "aws",
        &[
            "--aws-role",
            "kindling-node",
            "--aws-credentials",
            path.to_str().expect("utf-8"),
        ],
    )
}

/// The credentials document IMDS serves for the role, from moto's STS session.
fn role_document(secret: &str, token: &str, expiration: &str) -> serde_json::Value {
    serde_json::json!({
        "Code": "Success",
        "LastUpdated": "2026-12-05T00:00:00Z",
        "Type": "AWS-HMAC",
        "AccessKeyId": s3().get("/access_key_id"),
        "SecretAccessKey": secret,
        "Token": token,
        "Expiration": expiration,
    })
}

fn good_role_document() -> serde_json::Value {
    let s = s3();
    role_document(
        &s.get("/secret_access_key"),
        &s.get("/token"),
        &s.get("/expiration"),
    )
}

fn res(url: &str) -> Resource {
    Resource {
        source: Some(url.to_owned()),
        ..Resource::default()
    }
}

fn fetcher(cloud: Cloud) -> Fetcher {
    Fetcher::new(FetchSettings {
        response_headers_timeout: Duration::from_secs(5),
        total_timeout: Some(Duration::from_secs(10)),
        cloud,
        ..FetchSettings::default()
    })
}

/// Not on AWS: anonymous S3 requests to the moto stand-in.
fn anonymous_s3() -> Fetcher {
    fetcher(Cloud {
        s3_endpoint: Some(s3().get("/endpoint")),
        ..Cloud::default()
    })
}

/// On AWS, with `metadata` as IMDS.
fn aws_s3(metadata: &Metadata) -> Fetcher {
    fetcher(Cloud {
        aws_instance: true,
        metadata_url: Some(metadata.url()),
        s3_endpoint: Some(s3().get("/endpoint")),
        ..Cloud::default()
    })
}

fn text(f: &Fetcher, url: &str) -> String {
    let (bytes, _) = f
        .fetch_to_vec(&res(url), 1 << 20)
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    String::from_utf8(bytes).expect("utf-8")
}

/// Asserts that `msg` shows none of the role's credentials (the served ones and moto's).
#[track_caller]
fn assert_no_secret(msg: &str, served: &serde_json::Value) {
    let s = s3();
    for secret in [
        s.get("/access_key_id"),
        s.get("/secret_access_key"),
        s.get("/token"),
        served["SecretAccessKey"].as_str().unwrap_or("").to_owned(),
        served["Token"].as_str().unwrap_or("").to_owned(),
    ] {
        assert!(
            secret.is_empty() || !msg.contains(&secret),
            "a credential leaked into:\n{msg}"
        );
    }
    // A token's first 16 characters would already be too much.
    let token = s.get("/token");
    assert!(
        !msg.contains(&token[..16]),
        "part of the token leaked into:\n{msg}"
    );
}

#[test]
fn s3_public_object_anonymously() {
    assert_eq!(
        text(&anonymous_s3(), "s3://kindling-public/public.ign"),
        "public object\n"
    );
}

#[test]
fn s3_private_object_anonymously_is_access_denied_with_a_hint() {
    // On AWS without a role (IMDS answers 404 for the role list): anonymous, as in Ignition.
    let imds = Metadata::start_args("aws", &[]);
    let err = aws_s3(&imds)
        .fetch_to_vec(&res("s3://kindling-private/config.ign"), 1 << 20)
        .expect_err("private");
    let msg = err.to_string();
    assert!(
        matches!(err, FetchError::Store { status: 403, .. })
            && msg.contains("s3://kindling-private/config.ign")
            && msg.contains("anonymous"),
        "{msg}"
    );
    let paths: Vec<String> = imds
        .requests_json()
        .iter()
        .map(|r| r["path"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        paths.contains(&"/latest/meta-data/iam/security-credentials/".to_owned()),
        "{paths:?}"
    );
}

#[test]
fn s3_with_the_instance_role_reads_private_objects() {
    let imds = aws_role_at(&good_role_document());
    let f = aws_s3(&imds);
    assert_eq!(text(&f, "s3://kindling-private/config.ign"), "private v2\n");
    assert_eq!(
        text(&f, "s3://kindling-private/dir/with%20space.ign"),
        "spaced key\n"
    );
    // IMDSv2: a token first, then every metadata read carries it.
    let reqs = imds.requests_json();
    assert_eq!(reqs[0]["method"], "PUT", "{reqs:?}");
    assert!(reqs[1..]
        .iter()
        .all(|r| r["headers"]["x-aws-ec2-metadata-token"] == "stand-in-session-token"));
    // Credentials are read once per fetcher.
    let creds = reqs
        .iter()
        .filter(|r| r["path"] == "/latest/meta-data/iam/security-credentials/kindling-node")
        .count();
    assert_eq!(creds, 1, "{reqs:?}");
}

#[test]
fn s3_version_id_picks_the_version() {
    let imds = aws_role_at(&good_role_document());
    let f = aws_s3(&imds);
    let v1 = s3().get("/versions/v1");
    assert_eq!(
        text(
            &f,
            &format!("s3://kindling-private/config.ign?versionId={v1}")
        ),
        "private v1\n"
    );
    assert_eq!(
        text(
            &f,
            &format!("arn:aws:s3:::kindling-private/config.ign?versionId={v1}")
        ),
        "private v1\n"
    );
}

#[test]
fn s3_bucket_arns_name_objects() {
    let imds = aws_role_at(&good_role_document());
    assert_eq!(
        text(&aws_s3(&imds), "arn:aws:s3:::kindling-private/config.ign"),
        "private v2\n"
    );
    assert_eq!(
        text(&anonymous_s3(), "arn:aws:s3:::kindling-public/public.ign"),
        "public object\n"
    );
}

#[test]
fn s3_wrong_secret_is_a_clear_error_without_credentials() {
    let s = s3();
    let served = role_document(
        "wRoNgSeCrEtKeYwRoNgSeCrEtKeYwRoNgSeCrEt0",
        &s.get("/token"),
        &s.get("/expiration"),
    );
    let imds = aws_role_at(&served);
    let err = aws_s3(&imds)
        .fetch_to_vec(&res("s3://kindling-private/config.ign"), 1 << 20)
        .expect_err("bad signature");
    let msg = err.to_string();
    assert!(
        msg.contains("SignatureDoesNotMatch") && msg.contains("secret key"),
        "{msg}"
    );
    assert_no_secret(&msg, &served);
    assert_no_secret(&format!("{err:?}"), &served);
}

#[test]
fn s3_stale_session_token_is_a_clear_error_without_credentials() {
    let s = s3();
    let served = role_document(
        &s.get("/secret_access_key"),
        "FQoGZXIvYXdzEStaleStaleStaleStaleStaleStaleToken",
        &s.get("/expiration"),
    );
    let imds = aws_role_at(&served);
    let err = aws_s3(&imds)
        .fetch_to_vec(&res("s3://kindling-private/config.ign"), 1 << 20)
        .expect_err("stale token");
    let msg = err.to_string();
    assert!(
        msg.contains("InvalidToken") && msg.contains("session token"),
        "{msg}"
    );
    assert_no_secret(&msg, &served);
}

/// moto does not expire sessions, so a scripted S3 answers as AWS does for an expired token
/// (and echoes the token in its body, which must not reach the error).
#[test]
fn s3_expired_token_is_a_clear_error_without_credentials() {
    let served = role_document(
        "expiredSecretKeyexpiredSecretKeyexpired0",
        "FQoGZXIvYXdzEExpiredExpiredExpiredExpiredToken",
        "2020-01-01T00:00:00Z",
    );
    let echo = served.clone();
    let s3 = Server::start("127.0.0.1", move |req, _| {
        if req.header("Authorization").is_none() {
            // The region lookup (anonymous HEAD).
            return b"HTTP/1.1 403 Forbidden\r\nx-amz-bucket-region: eu-west-3\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
        }
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message><Token-0>{}</Token-0></Error>",
            echo["Token"].as_str().unwrap_or("")
        );
        format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    });
    let imds = aws_role_at(&served);
    let f = fetcher(Cloud {
        aws_instance: true,
        metadata_url: Some(imds.url()),
        s3_endpoint: Some(format!("http://{}", s3.addr)),
        ..Cloud::default()
    });
    let err = f
        .fetch_to_vec(&res("s3://some-bucket/config.ign"), 1 << 20)
        .expect_err("expired");
    let msg = err.to_string();
    assert!(
        msg.contains("ExpiredToken") && msg.contains("expired") && msg.contains("clock"),
        "{msg}"
    );
    assert_no_secret(&msg, &served);
    // The request was signed in the bucket's region, with the served token.
    let reqs = s3.requests.lock().expect("lock");
    let signed = reqs
        .iter()
        .find(|r| r.header("Authorization").is_some())
        .expect("a signed request");
    let auth = signed.header("Authorization").unwrap_or("");
    assert!(auth.contains("/eu-west-3/s3/aws4_request"), "{auth}");
    assert_eq!(
        signed.header("x-amz-security-token"),
        served["Token"].as_str()
    );
}

#[test]
fn s3_hashes_are_verified() {
    let f = anonymous_s3();
    let mut r = res("s3://kindling-public/public.ign");
    r.verification.hash = Some(sha512_of(b"public object\n").to_string());
    assert!(f.fetch_to_vec(&r, 1 << 20).is_ok());
    r.verification.hash = Some(sha512_of(b"something else").to_string());
    let err = f.fetch_to_vec(&r, 1 << 20).expect_err("mismatch");
    assert!(matches!(err, FetchError::HashMismatch { .. }), "{err}");
}

#[test]
fn s3_size_limits_apply() {
    let err = anonymous_s3()
        .fetch_to_vec(&res("s3://kindling-public/public.ign"), 4)
        .expect_err("too large");
    assert!(
        matches!(err, FetchError::TooLarge { limit: 4, .. }),
        "{err}"
    );
}

#[test]
fn s3_missing_buckets_and_keys_say_so() {
    let f = anonymous_s3();
    let err = f
        .fetch_to_vec(&res("s3://no-such-bucket/config.ign"), 1 << 20)
        .expect_err("no bucket");
    assert!(
        matches!(err, FetchError::BucketRegion { .. })
            && err.to_string().contains("does not exist"),
        "{err}"
    );
    let err = f
        .fetch_to_vec(&res("s3://kindling-public/missing.ign"), 1 << 20)
        .expect_err("no key");
    assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
}

#[test]
fn gs_anonymous_from_the_emulator() {
    let f = fetcher(Cloud {
        gcs_endpoint: Some(gcs().get("/endpoint")),
        ..Cloud::default()
    });
    assert_eq!(text(&f, "gs://kindling-gcs/config.ign"), "gcs object\n");
    assert_eq!(
        text(&f, "gs://kindling-gcs/dir/with%20space.ign"),
        "gcs spaced\n"
    );
    let mut r = res("gs://kindling-gcs/config.ign");
    r.verification.hash = Some(sha512_of(b"tampered").to_string());
    assert!(matches!(
        f.fetch_to_vec(&r, 1 << 20),
        Err(FetchError::HashMismatch { .. })
    ));
    let err = f
        .fetch_to_vec(&res("gs://kindling-gcs/missing.ign"), 1 << 20)
        .expect_err("missing");
    assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
}

/// A GCS stand-in that records headers: the emulator accepts any token, so it cannot show
/// that one was sent.
fn recording_gcs(reply: fn(&support::Request) -> Vec<u8>) -> Server {
    Server::start("127.0.0.1", move |req, _| reply(req))
}

#[test]
fn gs_sends_the_service_account_token() {
    let gcs = recording_gcs(|_| support::ok(b"secret config"));
    let imds = Metadata::start_args("gcp", &["--gcp-token", "ya29.stand-in-token"]);
    let f = fetcher(Cloud {
        gcp_instance: true,
        metadata_url: Some(imds.url()),
        gcs_endpoint: Some(format!("http://{}", gcs.addr)),
        ..Cloud::default()
    });
    assert_eq!(text(&f, "gs://bkt/dir/obj.ign"), "secret config");
    let reqs = gcs.requests.lock().expect("lock");
    assert_eq!(reqs[0].path, "/storage/v1/b/bkt/o/dir%2Fobj.ign?alt=media");
    assert_eq!(
        reqs[0].header("Authorization"),
        Some("Bearer ya29.stand-in-token")
    );
    let meta = imds.requests_json();
    assert_eq!(meta[0]["headers"]["metadata-flavor"], "Google", "{meta:?}");
}

#[test]
fn gs_without_a_service_account_is_anonymous() {
    let gcs = recording_gcs(|_| support::ok(b"public"));
    let imds = Metadata::start_args("gcp", &[]);
    let f = fetcher(Cloud {
        gcp_instance: true,
        metadata_url: Some(imds.url()),
        gcs_endpoint: Some(format!("http://{}", gcs.addr)),
        ..Cloud::default()
    });
    assert_eq!(text(&f, "gs://bkt/obj"), "public");
    assert_eq!(
        gcs.requests.lock().expect("lock")[0].header("Authorization"),
        None
    );
}

#[test]
fn gs_refused_token_is_a_clear_error_without_the_token() {
    let gcs = recording_gcs(|_| {
        let body = r#"{"error":{"code":401,"message":"Invalid Credentials ya29.stand-in-token","errors":[{"reason":"authError"}]}}"#;
        format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    });
    let imds = Metadata::start_args("gcp", &["--gcp-token", "ya29.stand-in-token"]);
    let f = fetcher(Cloud {
        gcp_instance: true,
        metadata_url: Some(imds.url()),
        gcs_endpoint: Some(format!("http://{}", gcs.addr)),
        ..Cloud::default()
    });
    let err = f
        .fetch_to_vec(&res("gs://bkt/obj"), 1 << 20)
        .expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("GCS refused gs://bkt/obj with HTTP 401 authError") && msg.contains("token"),
        "{msg}"
    );
    assert!(!msg.contains("ya29"), "{msg}");
    assert!(!format!("{err:?}").contains("ya29"));
}

/// The fetch stage on platform aws: user data from IMDS merges a config from S3, read with
/// the role's credentials; with RUST_LOG=trace, no credential shows in the log.
#[test]
fn fetch_stage_merges_an_s3_config_with_the_role_and_logs_no_secret() {
    let userdata = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(
        userdata.path(),
        r#"{"ignition":{"version":"3.4.0","config":{"merge":[{"source":"s3://kindling-private/merge.ign"}]}}}"#,
    )
    .expect("userdata");
    let served = good_role_document();
    let keep = tempfile::tempdir().expect("tempdir");
    let creds = keep.path().join("credentials.json");
    std::fs::write(&creds, served.to_string()).expect("credentials");
    let imds = Metadata::start_args(
        "aws",
        &[
            "--userdata",
            userdata.path().to_str().expect("utf-8"),
            "--aws-role",
            "kindling-node",
            "--aws-credentials",
            creds.to_str().expect("utf-8"),
        ],
    );
    let env = Env::new("kindling.firstboot kindling.platform.id=aws");
    let endpoint = s3().get("/endpoint");
    let imds_url = imds.url();
    let vars: [(&str, &Path); 3] = [
        ("KINDLING_TEST_METADATA_URL", Path::new(&imds_url)),
        ("KINDLING_TEST_S3_ENDPOINT", Path::new(&endpoint)),
        ("RUST_LOG", Path::new("trace")),
    ];
    let out = env.stage("fetch", &vars);
    assert_ok(&out);
    let config = env.config().to_string();
    assert!(config.contains("/etc/from-s3"), "{config}");
    // The log ran at trace level and saw the signed request: still no credential in it.
    let log = stderr(&out);
    assert!(log.contains("signed with the instance role"), "{log}");
    assert_no_secret(&log, &served);

    // The same under strictChain: the unpinned s3:// reference is refused before any request.
    let strict = Env::new("kindling.firstboot kindling.platform.id=aws");
    strict.trust(Some(r#"{"strictChain": true}"#), &[]);
    let out = strict.stage("fetch", &vars);
    assert_fails(&out, "strictChain");
    assert!(
        stderr(&out).contains("s3://kindling-private/merge.ign"),
        "{}",
        stderr(&out)
    );
}
