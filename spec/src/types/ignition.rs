//! The `ignition` section: version, config chaining, timeouts, TLS and proxy settings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Resource;
use crate::de::{is_default, nullable};

/// Metadata about the config itself and how Kindling fetches things.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ignition {
    /// The spec version the config is written against, such as `3.6.0`. Required.
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    /// Other configs to merge into this one, or to replace it with.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub config: IgnitionConfig,
    /// Limits on how long HTTP fetches may take.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub timeouts: Timeouts,
    /// TLS settings for `https` fetches.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub security: Security,
    /// HTTP proxy settings for fetches.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub proxy: Proxy,
}

/// Config chaining.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IgnitionConfig {
    /// Configs merged on top of this one, in order.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub merge: Vec<Resource>,
    /// A config that replaces this one entirely.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub replace: Resource,
}

/// HTTP timeouts, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeouts {
    /// Seconds to wait for the response headers of each HTTP request (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_response_headers: Option<i64>,
    /// Seconds an HTTP fetch may take in all, retries included; 0 means no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_total: Option<i64>,
}

/// Security settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Security {
    /// TLS settings.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub tls: Tls,
}

/// TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tls {
    /// Extra certificate authorities (PEM bundles) trusted for `https` fetches.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub certificate_authorities: Vec<Resource>,
}

/// Proxy settings, as the `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Proxy {
    /// The proxy for `http` requests, as an `http` or `https` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_proxy: Option<String>,
    /// The proxy for `https` requests, as an `http` or `https` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_proxy: Option<String>,
    /// Hosts, domains and addresses reached without the proxy.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub no_proxy: Vec<String>,
}
