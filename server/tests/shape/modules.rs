//! No import circles: in each crate of the server side (`server`, `standin`, `tools`, `wire`),
//! modules that share a parent never import each other in a circle, at any depth. A module may
//! use its own parts and its parents' items (a child using the types its `mod.rs` declares is
//! not a circle); what is refused is `a -> b -> ... -> a` between siblings, counted with all
//! of their parts (`http::uploads` using `http::files` is an edge `uploads -> files`).
//!
//! Imports are read from the source: every path that starts with `crate::`, `super::`,
//! `self::` or the name of a child module, in `use` declarations (groups included) and in
//! code, outside comments and string literals. A path is an edge to the longest module it
//! names. Inline modules (`mod tests { ... }`) resolve `super` from where they are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type ModPath = Vec<String>;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Path, // `::`
    Open, // `{`
    Close,
    Comma,
    Star,
    Other,
}

/// Identifiers and the punctuation paths are made of; comments, strings and chars skipped.
fn tokens(src: &str) -> Vec<Tok> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_char = |c: char| c.is_alphanumeric() || c == '_';
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < s.len() && s[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let mut depth = 0;
                while i < s.len() {
                    if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            'r' | 'b'
                if matches!(next, Some('"') | Some('#') | Some('r'))
                    && (i == 0 || !ident_char(s[i - 1])) =>
            {
                // r"..", r#".."#, b"..", br#".."#, or an identifier starting with r/b.
                let mut j = i + 1;
                if c == 'b' && s.get(j) == Some(&'r') {
                    j += 1;
                }
                let hashes = s[j..].iter().take_while(|c| **c == '#').count();
                j += hashes;
                if s.get(j) != Some(&'"') {
                    let start = i;
                    while i < s.len() && ident_char(s[i]) {
                        i += 1;
                    }
                    out.push(Tok::Ident(s[start..i].iter().collect()));
                    continue;
                }
                let raw = hashes > 0 || s[i + 1..j].contains(&'r');
                j += 1;
                while j < s.len() {
                    if !raw && s[j] == '\\' {
                        j += 2;
                        continue;
                    }
                    if s[j] == '"'
                        && s[j + 1..]
                            .iter()
                            .take(hashes)
                            .filter(|c| **c == '#')
                            .count()
                            == hashes
                    {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                i = j;
                out.push(Tok::Other);
                continue;
            }
            '"' => {
                i += 1;
                while i < s.len() && s[i] != '"' {
                    if s[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                out.push(Tok::Other);
            }
            '\'' => {
                // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
                if next == Some('\\') {
                    i += 2;
                    while i < s.len() && s[i] != '\'' {
                        i += 1;
                    }
                } else if s.get(i + 2) == Some(&'\'') {
                    i += 2;
                } else {
                    i += 1;
                    while i < s.len() && ident_char(s[i]) {
                        i += 1;
                    }
                    continue;
                }
                out.push(Tok::Other);
            }
            ':' if next == Some(':') => {
                out.push(Tok::Path);
                i += 1;
            }
            '{' => out.push(Tok::Open),
            '}' => out.push(Tok::Close),
            ',' => out.push(Tok::Comma),
            '*' => out.push(Tok::Star),
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < s.len() && ident_char(s[i]) {
                    i += 1;
                }
                out.push(Tok::Ident(s[start..i].iter().collect()));
                continue;
            }
            c if c.is_whitespace() => {}
            _ => out.push(Tok::Other),
        }
        i += 1;
    }
    out
}

/// Paths starting at `t[i]` (an identifier not preceded by `::`), expanding `{..}` groups.
/// Returns them and the index after the path.
fn paths_at(t: &[Tok], mut i: usize, prefix: &[String]) -> (Vec<ModPath>, usize) {
    let mut path = prefix.to_vec();
    let Some(Tok::Ident(first)) = t.get(i) else {
        return (vec![], i + 1);
    };
    if first == "self" && !prefix.is_empty() {
        // `use a::{self, b}`: `self` is the prefix itself.
    } else {
        path.push(first.clone());
    }
    i += 1;
    while t.get(i) == Some(&Tok::Path) {
        match t.get(i + 1) {
            Some(Tok::Ident(seg)) => {
                path.push(seg.clone());
                i += 2;
            }
            Some(Tok::Open) => {
                let mut all = Vec::new();
                i += 2;
                while i < t.len() && t[i] != Tok::Close {
                    match t[i] {
                        Tok::Ident(_) => {
                            let (mut ps, next) = paths_at(t, i, &path);
                            all.append(&mut ps);
                            i = next;
                            // `x as y`
                            while i < t.len() && !matches!(t[i], Tok::Comma | Tok::Close) {
                                i += 1;
                            }
                        }
                        _ => i += 1,
                    }
                }
                return (all, i + 1);
            }
            _ => break, // `::*`, `::<T>`
        }
    }
    (vec![path], i)
}

/// The module a source file holds: `lib.rs`/`main.rs` the root, `a/mod.rs` and `a.rs` `a`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main")
        || parts.last().is_some_and(|p| p == "mod")
    {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Module-to-module edges of the crate whose sources are in `src`, each with an example
/// (file and path) of where it comes from.
fn edges(src: &Path) -> BTreeMap<(ModPath, ModPath), String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<ModPath> = files.iter().map(|f| module_of(src, f)).collect();
    let mut out = BTreeMap::new();
    for file in &files {
        let here = module_of(src, file);
        let t = tokens(&std::fs::read_to_string(file).unwrap());
        // Inline modules: (name, the brace depth their `{` opened).
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0;
        let mut i = 0;
        while i < t.len() {
            match &t[i] {
                Tok::Open => depth += 1,
                Tok::Close => {
                    depth -= 1;
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                }
                Tok::Ident(m) if m == "mod" => {
                    if let (Some(Tok::Ident(name)), Some(Tok::Open)) = (t.get(i + 1), t.get(i + 2))
                    {
                        inline.push((name.clone(), depth));
                        depth += 1;
                        i += 3;
                        continue;
                    }
                }
                Tok::Ident(_) if i == 0 || t[i - 1] != Tok::Path => {
                    let current: ModPath = here
                        .iter()
                        .cloned()
                        .chain(inline.iter().map(|(n, _)| n.clone()))
                        .collect();
                    let (paths, next) = paths_at(&t, i, &[]);
                    for p in paths {
                        let (mut base, rest): (ModPath, &[String]) = match p[0].as_str() {
                            "crate" => (vec![], &p[1..]),
                            "super" | "self" => {
                                let mut base = current.clone();
                                let mut k = 0;
                                while k < p.len() && (p[k] == "super" || p[k] == "self") {
                                    if p[k] == "super" {
                                        base.pop();
                                    }
                                    k += 1;
                                }
                                (base, &p[k..])
                            }
                            first => {
                                let mut child = current.clone();
                                child.push(first.to_string());
                                if !modules.contains(&child) {
                                    continue;
                                }
                                (current.clone(), &p[..])
                            }
                        };
                        let mut target = None;
                        for seg in rest {
                            base.push(seg.clone());
                            if modules.contains(&base) {
                                target = Some(base.clone());
                            } else {
                                break;
                            }
                        }
                        let Some(target) =
                            target.or_else(|| modules.contains(&base).then(|| base.clone()))
                        else {
                            continue;
                        };
                        if target != here {
                            out.entry((here.clone(), target)).or_insert_with(|| {
                                format!(
                                    "{} uses {}",
                                    file.strip_prefix(src).unwrap().display(),
                                    p.join("::")
                                )
                            });
                        }
                    }
                    i = next;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// The circles between sibling modules of the crate in `src`, in words.
fn circles(src: &Path) -> Vec<String> {
    // Lift each edge to the two siblings under the modules' deepest common parent.
    let mut sib: BTreeMap<ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
    for ((a, b), why) in edges(src) {
        let n = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        if n == a.len() || n == b.len() {
            continue; // A module and its own parts.
        }
        sib.entry(a[..=n].to_vec())
            .or_default()
            .entry(b[..=n].to_vec())
            .or_insert(why);
    }
    // Tarjan's strongly connected components.
    struct State<'a> {
        g: &'a BTreeMap<ModPath, BTreeMap<ModPath, String>>,
        index: BTreeMap<ModPath, usize>,
        low: BTreeMap<ModPath, usize>,
        stack: Vec<ModPath>,
        found: Vec<Vec<ModPath>>,
    }
    fn visit(s: &mut State, v: &ModPath) {
        let n = s.index.len();
        s.index.insert(v.clone(), n);
        s.low.insert(v.clone(), n);
        s.stack.push(v.clone());
        let next: Vec<ModPath> =
            s.g.get(v)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
        for w in next {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let l = s.low[v].min(s.low[&w]);
                s.low.insert(v.clone(), l);
            } else if s.stack.contains(&w) {
                let l = s.low[v].min(s.index[&w]);
                s.low.insert(v.clone(), l);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.found.push(comp);
            }
        }
    }
    let mut s = State {
        g: &sib,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in sib.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    let name = |m: &ModPath| m.join("::");
    s.found
        .iter()
        .map(|comp| {
            let mut words = format!(
                "circle between {}:",
                comp.iter().map(name).collect::<Vec<_>>().join(", ")
            );
            for a in comp {
                for (b, why) in &sib[a] {
                    if comp.contains(b) {
                        words.push_str(&format!("\n  {} -> {} ({why})", name(a), name(b)));
                    }
                }
            }
            words
        })
        .collect()
}

#[test]
fn no_import_circle_between_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for krate in ["app", "server", "standin", "tools", "wire"] {
        let src = root.join(krate).join("src");
        assert!(
            !edges(&src).is_empty() || krate == "wire",
            "no imports read in {}: is the reader broken?",
            src.display()
        );
        for c in circles(&src) {
            found.push(format!("{krate}/src: {c}"));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n\n"));
}

mod reader {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        let _ = std::fs::remove_dir_all(dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("convergence_modules_{name}_{}", std::process::id()))
    }

    #[test]
    fn circles_are_found_and_named() {
        let dir = tmp("circle");
        write(
            &dir,
            &[
                ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
                // a -> b through a `use` group, b -> c in code, c -> a through `super`.
                ("a.rs", "use crate::{b::{self, Thing as T}, x};\n"),
                ("b/mod.rs", "pub mod inner;\nfn f() { crate::c::g(); }\n"),
                (
                    "b/inner.rs",
                    "// crate::a::nothing (a comment)\nconst S: &str = \"crate::a::f\";\n",
                ),
                ("c.rs", "pub fn g() { super::a::h(); }\n"),
            ],
        );
        let found = circles(&dir);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("circle between a, b, c:"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("a -> b (a.rs uses crate::b)"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("c -> a (c.rs uses super::a::h)"),
            "{}",
            found[0]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn parents_children_comments_and_tests_are_not_circles() {
        let dir = tmp("clean");
        write(
            &dir,
            &[
                ("lib.rs", "pub mod http;\npub mod channels;\n"),
                // A child uses its parent's items and a sibling; the parent uses its children.
                ("http/mod.rs", "pub mod files;\npub mod uploads;\npub fn router() { files::routes(); uploads::h(); crate::channels::Registry; }\n"),
                // `super` in the inline test module is `files`: its own `uploads` function.
                ("http/files.rs", "use super::router;\npub fn routes() {}\nfn uploads() {}\n#[cfg(test)]\nmod tests { use super::uploads; }\n"),
                ("http/uploads.rs", "use super::files;\n/* crate::http::uploads from files */\n"),
                ("channels/mod.rs", "pub struct Registry;\nfn t(c: char) -> char { let _ = '{'; c }\n"),
            ],
        );
        assert_eq!(circles(&dir), Vec::<String>::new());
        let e = edges(&dir);
        let m = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<ModPath>();
        assert!(
            e.contains_key(&(m(&["http", "uploads"]), m(&["http", "files"]))),
            "{e:?}"
        );
        assert!(
            !e.contains_key(&(m(&["http", "files"]), m(&["http", "uploads"]))),
            "{e:?}"
        );
        // Now make files use uploads too: a circle.
        std::fs::write(dir.join("http/files.rs"), "use super::uploads::x;\n").unwrap();
        let found = circles(&dir);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("circle between http::files, http::uploads"),
            "{}",
            found[0]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
