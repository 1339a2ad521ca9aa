//! Remote or inline content: file contents, appends, merged configs, CA bundles, key files.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::de::{is_default, nullable};

/// Where a piece of content comes from and how to check it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// The URL of the content: `http`, `https`, `tftp`, `s3`, `arn`, `gs` or `data`.
    /// Leave it unset for an empty file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How the content is compressed: `gzip`, or empty for none. The hash covers the
    /// decompressed bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Extra HTTP headers sent when fetching an `http` or `https` source.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub http_headers: Vec<HttpHeader>,
    /// How to check the content once fetched.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub verification: Verification,
}

/// One HTTP header to send with a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpHeader {
    /// The header name, such as `Authorization`. Must be unique within the list.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The header value. Leave it unset to send the header with no value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Integrity check for fetched content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The digest of the (decompressed) content as `sha512-<hex>` or `sha256-<hex>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}
