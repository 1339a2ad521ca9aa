//! Where an `s3://` or `arn:…:s3:…` URL points, read the way Ignition 2.26 reads it, and the
//! endpoints that serve it:
//!
//! - `s3://bucket/key`: the key is the decoded path; `?versionId=` picks a version.
//! - `arn:<partition>:s3:::bucket/key`: no region; the partition suggests where to ask first.
//! - `arn:<partition>:s3:<region>:<account>:accesspoint/<name>/object/<key>`: an access point,
//!   whose region is in the ARN, served by `<name>-<account>.s3-accesspoint.<region>…`.
//!
//! ARNs are used as written (Ignition does not decode them either); a `?versionId=` after an
//! ARN works as after an `s3://` URL.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What S3 leaves unencoded in a path: the unreserved characters and `/`.
const S3_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');
/// What S3 leaves unencoded in a query value: the unreserved characters. (Encoding more, as
/// `%2D` for `-`, would sign a different canonical query than some servers compute.)
const S3_QUERY: &AsciiSet = &S3_PATH.add(b'/');

/// An object in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub target: Target,
    pub key: String,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Bucket {
        name: String,
        /// From a bucket ARN's partition: where to ask for the bucket's region first.
        region_hint: Option<&'static str>,
    },
    AccessPoint {
        name: String,
        account: String,
        region: String,
    },
}

/// Reads an `s3://` or `arn:` URL; the error says what is wrong with it.
pub fn parse(url: &str) -> Result<Location, &'static str> {
    let (without_query, query) = match url.split('#').next().unwrap_or(url).split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (url.split('#').next().unwrap_or(url), None),
    };
    let version_id = query.and_then(version_id);
    let (scheme, rest) = without_query
        .split_once(':')
        .ok_or("not an s3:// or arn: URL")?;
    let (target, key) = if scheme.eq_ignore_ascii_case("s3") {
        let rest = rest
            .strip_prefix("//")
            .ok_or("write it as s3://bucket/key")?;
        let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("it names no bucket (s3://bucket/key)");
        }
        let key = percent_decode_str(path)
            .decode_utf8()
            .map_err(|_| "its key is not valid UTF-8 once decoded")?
            .into_owned();
        (
            Target::Bucket {
                name: bucket.to_owned(),
                region_hint: None,
            },
            key,
        )
    } else if scheme.eq_ignore_ascii_case("arn") {
        parse_arn(without_query)?
    } else {
        return Err("not an s3:// or arn: URL");
    };
    if key.is_empty() {
        return Err("it names no object key");
    }
    Ok(Location {
        target,
        key,
        version_id,
    })
}

fn parse_arn(arn: &str) -> Result<(Target, String), &'static str> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, region, account, resource] = fields[..] else {
        return Err("an ARN has six ':'-separated fields (arn:aws:s3:::bucket/key)");
    };
    if service != "s3" {
        return Err("only S3 ARNs name objects (arn:aws:s3:::bucket/key)");
    }
    let parts: Vec<&str> = arn.split('/').collect();
    if resource.starts_with("accesspoint/") {
        if parts.len() < 4 || parts[2] != "object" {
            return Err(
                "an access point ARN reads arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/object/KEY",
            );
        }
        if region.is_empty() || account.is_empty() || parts[1].is_empty() {
            return Err("an access point ARN needs its region, account and name");
        }
        return Ok((
            Target::AccessPoint {
                name: parts[1].to_owned(),
                account: account.to_owned(),
                region: region.to_owned(),
            },
            parts[3..].join("/"),
        ));
    }
    if parts.len() < 2 {
        return Err("a bucket ARN reads arn:aws:s3:::BUCKET/KEY");
    }
    let bucket = parts[0].rsplit(':').next().unwrap_or("");
    if bucket.is_empty() {
        return Err("it names no bucket (arn:aws:s3:::bucket/key)");
    }
    let region_hint = match partition {
        "aws" => Some("us-east-1"),
        "aws-cn" => Some("cn-north-1"),
        "aws-us-gov" => Some("us-gov-west-1"),
        _ => None,
    };
    Ok((
        Target::Bucket {
            name: bucket.to_owned(),
            region_hint,
        },
        parts[1..].join("/"),
    ))
}

/// The first `versionId` in a query string.
fn version_id(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("versionId="))
        .map(|v| {
            percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .next()
}

/// Where S3 answers for a region: `.com.cn` in China, `.com` elsewhere.
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// Whether a bucket can be a host name label under TLS (no dots: the wildcard certificate
/// covers one label). Other names are addressed path-style.
fn virtual_hostable(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, S3_PATH).to_string()
}

impl Location {
    /// The region the URL itself names (access points only).
    pub fn region(&self) -> Option<&str> {
        match &self.target {
            Target::AccessPoint { region, .. } => Some(region),
            Target::Bucket { .. } => None,
        }
    }

    pub fn region_hint(&self) -> Option<&'static str> {
        match &self.target {
            Target::Bucket { region_hint, .. } => *region_hint,
            Target::AccessPoint { .. } => None,
        }
    }

    /// The bucket name, or for an access point the alias S3 knows it by.
    pub fn bucket(&self) -> String {
        match &self.target {
            Target::Bucket { name, .. } => name.clone(),
            Target::AccessPoint { name, account, .. } => format!("{name}-{account}"),
        }
    }

    /// The object's URL in `region` (dual-stack, as Ignition asks for): virtual-hosted where
    /// the bucket name allows it; `endpoint` (tests) is addressed path-style.
    pub fn object_url(&self, region: &str, endpoint: Option<&str>) -> String {
        let mut url = match (endpoint, &self.target) {
            (Some(e), _) => format!(
                "{}/{}/{}",
                e.trim_end_matches('/'),
                encode(&self.bucket()),
                encode(&self.key)
            ),
            (None, Target::AccessPoint { .. }) => format!(
                "https://{}.s3-accesspoint.dualstack.{region}.{}/{}",
                self.bucket(),
                dns_suffix(region),
                encode(&self.key)
            ),
            (None, Target::Bucket { name, .. }) if virtual_hostable(name) => format!(
                "https://{name}.s3.dualstack.{region}.{}/{}",
                dns_suffix(region),
                encode(&self.key)
            ),
            (None, Target::Bucket { name, .. }) => format!(
                "https://s3.dualstack.{region}.{}/{}/{}",
                dns_suffix(region),
                encode(name),
                encode(&self.key)
            ),
        };
        if let Some(v) = &self.version_id {
            url.push_str("?versionId=");
            url.push_str(&utf8_percent_encode(v, S3_QUERY).to_string());
        }
        url
    }

    /// Where to ask for the bucket's region (an anonymous HEAD), in the `hint` region.
    pub fn bucket_url(&self, hint: &str, endpoint: Option<&str>) -> String {
        let name = self.bucket();
        match endpoint {
            Some(e) => format!("{}/{}", e.trim_end_matches('/'), encode(&name)),
            None if virtual_hostable(&name) => {
                format!("https://{name}.s3.dualstack.{hint}.{}/", dns_suffix(hint))
            }
            None => format!(
                "https://s3.dualstack.{hint}.{}/{}",
                dns_suffix(hint),
                encode(&name)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(name: &str, hint: Option<&'static str>) -> Target {
        Target::Bucket {
            name: name.into(),
            region_hint: hint,
        }
    }

    #[test]
    fn s3_urls_decode_their_key_and_keep_the_version() {
        let l = parse("s3://my-bucket/dir/with%20space.ign?versionId=3%2Fx-y.z").expect("parses");
        assert_eq!(l.target, bucket("my-bucket", None));
        assert_eq!(l.key, "dir/with space.ign");
        assert_eq!(l.version_id.as_deref(), Some("3/x-y.z"));
        assert_eq!(
            l.object_url("eu-west-3", None),
            "https://my-bucket.s3.dualstack.eu-west-3.amazonaws.com/dir/with%20space.ign?versionId=3%2Fx-y.z"
        );
        assert_eq!(
            l.object_url("eu-west-3", Some("http://127.0.0.1:9000/")),
            "http://127.0.0.1:9000/my-bucket/dir/with%20space.ign?versionId=3%2Fx-y.z"
        );
    }

    #[test]
    fn dotted_buckets_go_path_style_and_china_has_its_own_domain() {
        let l = parse("s3://my.bucket/k").expect("parses");
        assert_eq!(
            l.object_url("cn-north-1", None),
            "https://s3.dualstack.cn-north-1.amazonaws.com.cn/my.bucket/k"
        );
        assert_eq!(
            l.bucket_url("us-east-1", None),
            "https://s3.dualstack.us-east-1.amazonaws.com/my.bucket"
        );
    }

    #[test]
    fn bucket_arns_carry_a_partition_hint() {
        let l = parse("arn:aws:s3:::my-bucket/a/b.ign?versionId=v1").expect("parses");
        assert_eq!(l.target, bucket("my-bucket", Some("us-east-1")));
        assert_eq!(l.key, "a/b.ign");
        assert_eq!(l.version_id.as_deref(), Some("v1"));
        assert_eq!(l.region(), None);
        let cn = parse("arn:aws-cn:s3:::b1/k").expect("parses");
        assert_eq!(cn.region_hint(), Some("cn-north-1"));
        let gov = parse("arn:aws-us-gov:s3:::b1/k").expect("parses");
        assert_eq!(gov.region_hint(), Some("us-gov-west-1"));
        let other = parse("arn:aws-iso:s3:::b1/k").expect("parses");
        assert_eq!(other.region_hint(), None);
    }

    #[test]
    fn access_point_arns_map_to_their_own_host() {
        let l = parse("arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap/object/dir/config.ign")
            .expect("parses");
        assert_eq!(
            l.target,
            Target::AccessPoint {
                name: "my-ap".into(),
                account: "123456789012".into(),
                region: "us-west-2".into(),
            }
        );
        assert_eq!(l.key, "dir/config.ign");
        assert_eq!(l.region(), Some("us-west-2"));
        assert_eq!(
            l.object_url("us-west-2", None),
            "https://my-ap-123456789012.s3-accesspoint.dualstack.us-west-2.amazonaws.com/dir/config.ign"
        );
    }

    #[test]
    fn malformed_urls_are_refused_with_a_reason() {
        for (url, needle) in [
            ("arn:aws:iam::123:user/x", "only S3 ARNs"),
            ("arn:aws:s3:::bucket-only", "bucket ARN"),
            (
                "arn:aws:s3:us-west-2:1:accesspoint/ap/config.ign",
                "access point ARN",
            ),
            (
                "arn:aws:s3:us-west-2:1:accesspoint/ap/objects/k",
                "access point ARN",
            ),
            ("arn:aws:s3", "six"),
            ("s3:///key", "no bucket"),
            ("s3://bucket", "no object key"),
            ("s3://bucket/", "no object key"),
        ] {
            let err = parse(url).expect_err(url);
            assert!(err.contains(needle), "{url}: {err}");
        }
    }
}
