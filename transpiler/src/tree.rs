//! The config as a value tree whose every node remembers where it came from in the YAML
//! source. The same type holds the decoded YAML (snake_case keys) and the Ignition output
//! (camelCase keys); positions travel with values through desugaring and merging, so an
//! error found in the output points at the YAML that produced it.

use kindling_spec::path::{JsonPath, Segment};

use crate::yaml::Pos;

/// Index of a node in [`Origins`]; [`NO_ORIGIN`] for values with no source of their own.
pub type OriginId = u32;
pub const NO_ORIGIN: OriginId = u32::MAX;

#[derive(Debug, Clone, Copy)]
enum Seg {
    Root,
    Key(&'static str),
    Index(u32),
}

#[derive(Debug, Clone, Copy)]
struct Origin {
    parent: OriginId,
    seg: Seg,
    pos: Pos,
}

/// Where each source node sits: its YAML path (stored as a parent link) and position.
#[derive(Debug, Default)]
pub struct Origins {
    nodes: Vec<Origin>,
}

impl Origins {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn root(&mut self, pos: Pos) -> OriginId {
        self.push(NO_ORIGIN, Seg::Root, pos)
    }

    pub fn key(&mut self, parent: OriginId, key: &'static str, pos: Pos) -> OriginId {
        self.push(parent, Seg::Key(key), pos)
    }

    pub fn index(&mut self, parent: OriginId, index: usize, pos: Pos) -> OriginId {
        self.push(
            parent,
            Seg::Index(u32::try_from(index).unwrap_or(u32::MAX)),
            pos,
        )
    }

    fn push(&mut self, parent: OriginId, seg: Seg, pos: Pos) -> OriginId {
        let id = OriginId::try_from(self.nodes.len()).unwrap_or(NO_ORIGIN);
        self.nodes.push(Origin { parent, seg, pos });
        id
    }

    pub fn pos(&self, id: OriginId) -> Option<Pos> {
        self.nodes.get(id as usize).map(|o| o.pos)
    }

    /// The YAML path of a node, such as `$.storage.files.0.mode`.
    pub fn path(&self, id: OriginId) -> JsonPath {
        let mut segs = Vec::new();
        let mut cur = id;
        while let Some(o) = self.nodes.get(cur as usize) {
            match o.seg {
                Seg::Root => break,
                Seg::Key(k) => segs.push(Segment::Key(k.to_owned())),
                Seg::Index(i) => segs.push(Segment::Index(i as usize)),
            }
            cur = o.parent;
        }
        let mut path = JsonPath::root();
        for s in segs.into_iter().rev() {
            path.push(s);
        }
        path
    }
}

/// A value and the source node it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct V {
    pub origin: OriginId,
    pub k: K,
}

#[derive(Debug, Clone, PartialEq)]
pub enum K {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<V>),
    Obj(Vec<(&'static str, V)>),
}

impl V {
    pub fn new(origin: OriginId, k: K) -> Self {
        V { origin, k }
    }

    pub fn obj(origin: OriginId) -> Self {
        V::new(origin, K::Obj(Vec::new()))
    }

    pub fn str(origin: OriginId, s: impl Into<String>) -> Self {
        V::new(origin, K::Str(s.into()))
    }

    pub fn int(origin: OriginId, i: i64) -> Self {
        V::new(origin, K::Int(i))
    }

    pub fn bool(origin: OriginId, b: bool) -> Self {
        V::new(origin, K::Bool(b))
    }

    pub fn list(origin: OriginId, items: Vec<V>) -> Self {
        V::new(origin, K::List(items))
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        match &self.k {
            K::Obj(fields) => fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        match &mut self.k {
            K::Obj(fields) => fields.iter_mut().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets a key, replacing any value it had.
    pub fn set(&mut self, key: &'static str, value: V) {
        if let K::Obj(fields) = &mut self.k {
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => fields.push((key, value)),
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        if let K::Obj(fields) = &mut self.k {
            let i = fields.iter().position(|(k, _)| *k == key)?;
            return Some(fields.remove(i).1);
        }
        None
    }

    /// The object under `key`, created empty if missing.
    pub fn entry(&mut self, key: &'static str, origin: OriginId) -> &mut V {
        if self.get(key).is_none() {
            self.set(key, V::obj(origin));
        }
        match &mut self.k {
            K::Obj(fields) => {
                let i = fields.iter().position(|(k, _)| *k == key).unwrap_or(0);
                &mut fields[i].1
            }
            _ => unreachable_obj(),
        }
    }

    /// The list under `key`, created empty if missing.
    pub fn list_entry(&mut self, key: &'static str, origin: OriginId) -> &mut Vec<V> {
        if self.get(key).is_none() {
            self.set(key, V::list(origin, Vec::new()));
        }
        match self.get_mut(key).map(|v| &mut v.k) {
            Some(K::List(items)) => items,
            _ => unreachable_list(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.k {
            K::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.k {
            K::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self.k {
            K::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_list(&self) -> &[V] {
        match &self.k {
            K::List(items) => items,
            _ => &[],
        }
    }

    pub fn as_list_mut(&mut self) -> Option<&mut Vec<V>> {
        match &mut self.k {
            K::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn fields(&self) -> &[(&'static str, V)] {
        match &self.k {
            K::Obj(fields) => fields,
            _ => &[],
        }
    }

    /// A string field.
    pub fn str_at(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(V::as_str)
    }

    /// `true` only when the boolean field is set and true.
    pub fn is_true(&self, key: &str) -> bool {
        self.get(key).and_then(V::as_bool) == Some(true)
    }

    /// The list under `key`, or an empty slice.
    pub fn list_at(&self, key: &str) -> &[V] {
        self.get(key).map_or(&[], V::as_list)
    }

    /// Whether the value would be left out of the output (empty object or list).
    pub fn is_empty_container(&self) -> bool {
        match &self.k {
            K::List(items) => items.is_empty(),
            K::Obj(fields) => fields.iter().all(|(_, v)| v.is_empty_container()),
            _ => false,
        }
    }

    /// Follows a JSON path; returns the deepest node reached and whether it was reached
    /// in full.
    pub fn locate(&self, path: &JsonPath) -> (&V, bool) {
        let mut cur = self;
        for seg in path.segments() {
            let next = match seg {
                Segment::Key(k) => cur.get(k),
                Segment::Index(i) => cur.as_list().get(*i),
            };
            match next {
                Some(n) => cur = n,
                None => return (cur, false),
            }
        }
        (cur, true)
    }
}

fn unreachable_obj() -> ! {
    panic!("entry() on a value that is not an object")
}

fn unreachable_list() -> ! {
    panic!("list_entry() on a key that does not hold a list")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_rebuild_yaml_paths() {
        let mut o = Origins::new();
        let root = o.root(Pos { line: 1, col: 1 });
        let storage = o.key(root, "storage", Pos { line: 2, col: 1 });
        let files = o.key(storage, "files", Pos { line: 3, col: 3 });
        let first = o.index(files, 0, Pos { line: 4, col: 5 });
        let mode = o.key(first, "mode", Pos { line: 5, col: 13 });
        assert_eq!(o.path(mode).to_string(), "$.storage.files.0.mode");
        assert_eq!(o.pos(mode), Some(Pos { line: 5, col: 13 }));
        assert_eq!(o.path(root).to_string(), "$");
    }
}
