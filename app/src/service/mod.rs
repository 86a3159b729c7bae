//! Use cases: what combines several table groups, in one transaction where it writes. Server
//! functions (`api`), the server's workers and its channel adapters call these (or a store
//! module directly for a plain read or write of one table group).
//!
//! The modules call each other in one direction only (checked by a test in this module):
//! `conversations` → `chat`, `customers`, `reply_options`; `reply_options` → `customers`, `reply`,
//! `sending`; `reply` → `sending`; `customers` → `suggestions`; `ingest` → `suggestions`;
//! `channel_accounts` → `provider_accounts`; every module that writes a message, a status
//! change, a move or a merge → `reports` (which keeps the report rollups); the reports page:
//! `report_view` → `report_cross`, `report_reach`, `report_tabs`, `report_query`, `reports`;
//! `report_cross` and `report_reach` → `report_tabs`, `report_query`; `report_cross` and
//! `report_tabs` → `report_charts`; `views` → `search`; `campaigns` → `campaign_send`,
//! `search`; the website chat: `chat` → `identifiers`, `merge`; `chat_followup` →
//! `conversations`, `reply`; the preference center: `preferences` → `identifiers`, `merge`,
//! `reply`. The others call no other service module.

pub mod campaign_send;
pub mod campaigns;
pub mod canned;
pub mod channel_accounts;
pub mod chat;
pub mod chat_followup;
pub mod consent;
pub mod conversations;
pub mod customers;
pub mod identifiers;
pub mod ingest;
pub mod labels;
pub mod merge;
pub mod operations;
pub mod preferences;
pub mod provider_accounts;
pub mod reply;
pub mod reply_options;
pub mod report_charts;
pub mod report_cross;
pub mod report_query;
pub mod report_reach;
pub mod report_tabs;
pub mod report_view;
pub mod reports;
pub mod search;
pub mod sending;
pub mod suggestions;
pub mod views;

/// The layering rules, checked on the source: store modules never name each other, and
/// service modules call each other without a circle.
#[cfg(test)]
mod layering {
    use std::collections::{BTreeMap, BTreeSet};

    /// `src/<dir>/*.rs` (but `mod.rs`) by module name, comment lines left out.
    fn modules(dir: &str) -> BTreeMap<String, String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(dir);
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&path).expect("source folder") {
            let p = entry.expect("entry").path();
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            if p.extension().is_some_and(|e| e == "rs") && name != "mod" {
                let text = std::fs::read_to_string(&p).expect("source file");
                let code: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect();
                out.insert(name, code.join("\n"));
            }
        }
        assert!(!out.is_empty(), "no modules in {path:?}");
        out
    }

    /// The modules among `names` that `code` names through `prefix` (`super::x::`,
    /// `super::{x, …}`, `use super::x;` and the like).
    fn named(code: &str, prefix: &str, names: &BTreeSet<String>) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (i, _) in code.match_indices(prefix) {
            let rest = &code[i + prefix.len()..];
            let items: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for item in items {
                let item = item.trim_start();
                let end = item
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(item.len());
                let name = &item[..end];
                if names.contains(name) {
                    found.insert(name.to_string());
                }
            }
        }
        found
    }

    #[test]
    fn no_store_module_names_another() {
        let store = modules("store");
        let names: BTreeSet<String> = store.keys().cloned().collect();
        for (module, code) in &store {
            let mut others = named(code, "super::", &names);
            others.extend(named(code, "crate::store::", &names));
            others.remove(module);
            assert!(
                others.is_empty(),
                "store/{module}.rs uses store modules {others:?}: move what combines them to service/"
            );
            assert!(
                !code.contains("crate::service") && !code.contains("crate::api"),
                "store/{module}.rs reaches up to service or api"
            );
        }
    }

    #[test]
    fn service_modules_call_each_other_in_one_direction() {
        let service = modules("service");
        let names: BTreeSet<String> = service.keys().cloned().collect();
        let graph: BTreeMap<String, BTreeSet<String>> = service
            .iter()
            .map(|(m, code)| {
                let mut calls = named(code, "super::", &names);
                calls.extend(named(code, "crate::service::", &names));
                calls.remove(m);
                (m.clone(), calls)
            })
            .collect();
        // Depth-first search; a module met again while still on the path closes a circle.
        fn visit(
            m: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if done.contains(m) {
                return;
            }
            if let Some(i) = path.iter().position(|p| p == m) {
                panic!(
                    "service modules call each other in a circle: {:?}",
                    &path[i..]
                );
            }
            path.push(m.to_string());
            for next in &graph[m] {
                visit(next, graph, path, done);
            }
            path.pop();
            done.insert(m.to_string());
        }
        let mut done = BTreeSet::new();
        for m in graph.keys() {
            visit(m, &graph, &mut Vec::new(), &mut done);
        }
        assert!(
            !service
                .values()
                .any(|code| code.contains("crate::api") || code.contains("crate::ui")),
            "service reaches up to api or ui"
        );
        // Exactly the calls the module documentation (and docs/architecture.md) names.
        let documented: BTreeMap<String, BTreeSet<String>> = [
            ("campaigns", &["campaign_send", "search"][..]),
            ("channel_accounts", &["provider_accounts"]),
            ("chat", &["identifiers", "merge"]),
            ("chat_followup", &["conversations", "reply"]),
            (
                "conversations",
                &["chat", "customers", "reply_options", "reports"],
            ),
            ("customers", &["suggestions"]),
            ("ingest", &["reports", "suggestions"]),
            ("merge", &["reports"]),
            ("preferences", &["identifiers", "merge", "reply"]),
            ("reply", &["reports", "sending"]),
            (
                "reply_options",
                &["customers", "reply", "reports", "sending"],
            ),
            (
                "report_cross",
                &["report_charts", "report_query", "report_tabs"],
            ),
            ("report_tabs", &["report_charts", "report_query"]),
            ("report_reach", &["report_query", "report_tabs"]),
            (
                "report_view",
                &[
                    "report_cross",
                    "report_query",
                    "report_reach",
                    "report_tabs",
                    "reports",
                ],
            ),
            ("views", &["search"]),
        ]
        .into_iter()
        .map(|(m, calls)| (m.to_string(), calls.iter().map(|c| c.to_string()).collect()))
        .collect();
        let calling: BTreeMap<String, BTreeSet<String>> = graph
            .into_iter()
            .filter(|(_, calls)| !calls.is_empty())
            .collect();
        assert_eq!(calling, documented);
    }

    #[test]
    fn the_name_scanner_reads_groups_and_paths() {
        let names: BTreeSet<String> = ["events", "merges"].map(String::from).into();
        let code = "use super::{events, now_ms, Db};\nlet x = super::merges::active(c);";
        assert_eq!(named(code, "super::", &names), names);
        assert!(named("use super::{now_ms, Db};", "super::", &names).is_empty());
    }
}
