//! `inline` and `local` on resources become `data:` URLs in `source`.

use crate::data_url;
use crate::files_dir;
use crate::translate::Ctx;
use crate::tree::V;

/// `from` is the resource as written, `to` its output form (already holding `source`,
/// `compression`, `httpHeaders` and `verification` as written).
pub fn apply(from: &V, to: &mut V, cx: &mut Ctx<'_>) {
    if let Some(local) = from.get("local") {
        let name = local.as_str().unwrap_or_default();
        match files_dir::read(cx.files, name) {
            Ok(contents) => embed(&contents, local, to),
            Err(e) => cx.diag.error(local.origin, e.to_string()),
        }
    }
    if let Some(inline) = from.get("inline") {
        embed(inline.as_str().unwrap_or_default().as_bytes(), inline, to);
    }
}

fn embed(contents: &[u8], from: &V, to: &mut V) {
    let user_compression = to.str_at("compression").map(str::to_owned);
    let url = data_url::make(contents, user_compression.as_deref(), true);
    to.set("source", V::str(from.origin, url.url));
    if let Some(c) = url.compression {
        to.set("compression", V::str(from.origin, c));
    }
}
