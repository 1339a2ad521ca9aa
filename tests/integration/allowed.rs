//! The allow-list of intended differences from Ignition 2.14 (`tests/differential/allowed.txt`):
//! parsing, and applying it to two tree snapshots. Each entry must say which Ignition
//! 2.26 behaviour or Kindling rule it follows, and each must allow something in a run of the
//! corpus, or it is reported as stale.

// Each differential test uses only its part.
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;

use crate::common::TreeNode;

#[derive(Debug)]
pub struct Entry {
    /// Line number of the entry's first line, for messages.
    pub at: usize,
    pub test: String,
    pub kind: String,
    fields: BTreeMap<String, String>,
    used: Cell<bool>,
}

impl Entry {
    fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }

    fn configs(&self) -> impl Iterator<Item = &str> {
        self.get("configs").split_whitespace()
    }

    fn for_config(&self, config: &str) -> bool {
        self.configs().any(|c| c == config)
    }

    fn shown(&self) -> String {
        format!(
            "allowed.txt:{} ({} {})",
            self.at,
            self.kind,
            self.get("path")
        )
    }
}

#[derive(Debug)]
pub struct AllowList {
    entries: Vec<Entry>,
}

const KINDS: [&str; 8] = [
    "verdict",
    "skip",
    "rename",
    "sorted-lines",
    "blank-field",
    "field",
    "line",
    "documented",
];

impl AllowList {
    /// The entries of `file` for `test`; panics with the line on a malformed entry.
    pub fn load(file: &Path, test: &str) -> Self {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let mut entries = Vec::new();
        let mut current: Option<Entry> = None;
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            if line.starts_with('#') {
                continue;
            }
            if line.trim().is_empty() {
                entries.extend(current.take());
                continue;
            }
            let (key, value) = line
                .split_once(": ")
                .or_else(|| line.strip_suffix(':').map(|k| (k, "")))
                .unwrap_or_else(|| panic!("allowed.txt:{n}: not `key: value`: {line:?}"));
            let entry = current.get_or_insert_with(|| Entry {
                at: n,
                test: String::new(),
                kind: String::new(),
                fields: BTreeMap::new(),
                used: Cell::new(false),
            });
            match key {
                "test" => entry.test = value.to_owned(),
                "kind" => entry.kind = value.to_owned(),
                _ => {
                    entry.fields.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        entries.extend(current);
        for e in &entries {
            assert!(
                KINDS.contains(&e.kind.as_str()),
                "allowed.txt:{}: unknown kind {:?}",
                e.at,
                e.kind
            );
            assert!(!e.test.is_empty(), "allowed.txt:{}: no test", e.at);
            assert!(
                e.get("follows").len() > 20,
                "allowed.txt:{}: every entry names the Ignition 2.26 behaviour or Kindling rule it follows",
                e.at
            );
        }
        entries.retain(|e| e.test == test);
        Self { entries }
    }

    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.kind == kind)
    }

    /// Ignition's tree with skips, renames and the sorted and blanked files normalised; the
    /// same for Kindling's.
    pub fn normalise(&self, tree: BTreeMap<String, TreeNode>) -> BTreeMap<String, TreeNode> {
        let mut out = BTreeMap::new();
        'nodes: for (path, mut node) in tree {
            for e in self.of_kind("skip") {
                if path == e.get("path") {
                    e.used.set(true);
                    continue 'nodes;
                }
            }
            let mut path = path;
            for e in self.of_kind("rename") {
                if let Some(base) = path.strip_suffix(e.get("ignition")) {
                    path = format!("{base}{}", e.get("kindling"));
                    e.used.set(true);
                }
            }
            let text = String::from_utf8_lossy(&node.data).into_owned();
            for e in self.of_kind("sorted-lines") {
                if path == e.get("path") {
                    let mut lines: Vec<&str> = text.lines().collect();
                    lines.sort_unstable();
                    node.data = lines.join("\n").into_bytes();
                    e.used.set(true);
                }
            }
            for e in self.of_kind("blank-field") {
                if path == e.get("path") {
                    let sep = e.get("separator");
                    let field: usize = e.get("field").parse().expect("field number");
                    let lines: Vec<String> = String::from_utf8_lossy(&node.data)
                        .lines()
                        .map(|l| {
                            let mut f: Vec<&str> = l.split(sep).collect();
                            if f.len() >= field {
                                f[field - 1] = "<blanked>";
                            }
                            f.join(sep)
                        })
                        .collect();
                    node.data = lines.join("\n").into_bytes();
                    e.used.set(true);
                }
            }
            out.insert(path, node);
        }
        out
    }

    /// Whether the difference between Ignition's `ign` and Kindling's `kin` at `path`, for
    /// `config`, is exactly what `field` and `line` entries allow. Marks those it used.
    pub fn allows(&self, config: &str, path: &str, ign: &TreeNode, kin: &TreeNode) -> bool {
        let meta = |n: &TreeNode| (n.kind, n.mode, n.uid, n.gid, n.nlink);
        if meta(ign) != meta(kin) || ign.kind != "file" {
            return false;
        }
        let ign_text = String::from_utf8_lossy(&ign.data).into_owned();
        let kin_text = String::from_utf8_lossy(&kin.data).into_owned();
        let mut a: Vec<String> = ign_text.lines().map(str::to_owned).collect();
        let mut b: Vec<String> = kin_text.lines().map(str::to_owned).collect();
        let mut used = Vec::new();
        let here = |e: &&Entry| e.get("path") == path && e.for_config(config);
        for e in self.of_kind("line").filter(here) {
            let take = |lines: &mut Vec<String>, want: &str| {
                want.is_empty()
                    || lines
                        .iter()
                        .position(|l| l == want)
                        .map(|i| lines.remove(i))
                        .is_some()
            };
            let (mut a2, mut b2) = (a.clone(), b.clone());
            if take(&mut a2, e.get("ignition")) && take(&mut b2, e.get("kindling")) {
                (a, b) = (a2, b2);
                used.push(e);
            }
        }
        for e in self.of_kind("field").filter(here) {
            let sep = e.get("separator");
            let field: usize = e.get("field").parse().expect("field number");
            for (x, y) in a.iter_mut().zip(&b) {
                let fx: Vec<&str> = x.split(sep).collect();
                let fy: Vec<&str> = y.split(sep).collect();
                let only_that_field = fx.len() == fy.len()
                    && fx.len() >= field
                    && fx[field - 1] == e.get("ignition")
                    && fy[field - 1] == e.get("kindling")
                    && fx
                        .iter()
                        .zip(&fy)
                        .enumerate()
                        .all(|(i, (p, q))| i == field - 1 || p == q);
                if only_that_field {
                    *x = y.clone();
                    used.push(e);
                }
            }
        }
        if a != b {
            return false;
        }
        for e in used {
            e.used.set(true);
        }
        true
    }

    /// Whether a `verdict` entry names `config` (a fixture's file stem).
    pub fn has_verdict(&self, config: &str) -> bool {
        self.of_kind("verdict").any(|e| e.for_config(config))
    }

    /// Whether a `verdict` entry allows Ignition 2.14's verdict on `config` to differ from
    /// Kindling's in this direction (`ignition` and `kindling` are `accepts` or `rejects`).
    pub fn allows_verdict(&self, config: &str, ignition_valid: bool, kindling_valid: bool) -> bool {
        let word = |valid: bool| if valid { "accepts" } else { "rejects" };
        for e in self.of_kind("verdict").filter(|e| e.for_config(config)) {
            if e.get("ignition") == word(ignition_valid)
                && e.get("kindling") == word(kindling_valid)
            {
                e.used.set(true);
                return true;
            }
        }
        false
    }

    /// Entries that allowed nothing in the whole run.
    pub fn stale(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.kind != "documented" && !e.used.get())
            .map(Entry::shown)
            .collect()
    }
}
