//! The endpoints of issue 14 for the role matrix: search, labels, saved views, canned
//! responses (each repeatable by every allowed role, admin first).

use crate::support::TestApp;
use app::domain::Permission;
use app::service;

type Endpoint = (&'static str, Vec<(&'static str, String)>, Permission);

pub async fn endpoints(app: &TestApp, conv: &str) -> Vec<Endpoint> {
    let conv = conv.to_string();
    let mut out: Vec<Endpoint> = Vec::new();
    let db = &app.state.db;
    let kept = service::labels::create(db, "Matrix kept", "teal")
        .await
        .unwrap();
    let gone = service::labels::create(db, "Matrix gone", "red")
        .await
        .unwrap();
    out.extend([
        (
            "/api/search",
            vec![("q", "hello status:open".to_string())],
            Permission::ReadConversations,
        ),
        ("/api/labels", vec![], Permission::ReadConversations),
        ("/api/inbox/counts", vec![], Permission::ReadConversations),
        (
            "/api/conversation/presence",
            vec![("id", conv.clone()), ("state", "viewing".into())],
            Permission::ReadConversations,
        ),
        (
            // Saving a name the list holds replaces its search: repeatable by every role.
            "/api/views/save",
            vec![
                ("name", "Matrix view".to_string()),
                ("query", "status:open".into()),
            ],
            Permission::ReadConversations,
        ),
        (
            "/api/conversation/label",
            vec![
                ("id", conv.clone()),
                ("label_id", kept.id.to_string()),
                ("on", "true".into()),
            ],
            Permission::LabelConversations,
        ),
        (
            "/api/admin/labels/save",
            vec![
                ("id", kept.id.to_string()),
                ("name", "Matrix kept".into()),
                ("colour", "blue".into()),
            ],
            Permission::ManageLabels,
        ),
        (
            "/api/admin/labels/delete",
            vec![("id", gone.id.to_string())],
            Permission::ManageLabels,
        ),
    ]);
    // Canned responses: saving a personal response with a fixed shortcut succeeds for every
    // role that replies (saving a shortcut you already have replaces it). Deleting is left
    // out: an id is one user's, so the next role would get 404; server/tests/canned.rs
    // tests it.
    out.extend([
        ("/api/canned", vec![], Permission::Reply),
        (
            "/api/canned/save",
            vec![
                ("shortcut", "matrix".to_string()),
                ("title", "Matrix".into()),
                ("body", "Hello {{customer.first_name}}".into()),
            ],
            Permission::Reply,
        ),
    ]);
    out
}
