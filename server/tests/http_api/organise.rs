//! The endpoints of issue 14 for the role matrix: search, labels, saved views, canned
//! responses (each repeatable by every allowed role, admin first).

use crate::support::TestApp;
use app::domain::Permission;
use app::service;

type Endpoint = (&'static str, Vec<(&'static str, String)>, Permission);

pub async fn endpoints(app: &TestApp, conv: &str) -> Vec<Endpoint> {
    let conv = conv.to_string();
    let mut out: Vec<Endpoint> = Vec::new();
    // The matrix's keys are static: this one names the conversation.
    let ticked: &'static str = Box::leak(format!("ids[{conv}]").into_boxed_str());
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
            // Ticked in the list: `ids[<conversation id>]=on`.
            "/api/conversations/label",
            vec![
                (ticked, "on".to_string()),
                ("label_id", kept.id.to_string()),
                ("op", "add".into()),
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

/// Labels put on several conversations ticked in the list, through the real form encoding
/// (`ids[<id>]=on`), each with its timeline event; refusals in words.
async fn the_list_labels_several_conversations(engine: crate::support::Engine) {
    let app = crate::support::spawn_app(engine).await;
    let db = &app.state.db;
    let label = service::labels::create(db, "Follow up", "green")
        .await
        .unwrap();
    let convs: Vec<i64> = sqlx::query_scalar("SELECT id FROM conversations ORDER BY id LIMIT 3")
        .fetch_all(&db.read)
        .await
        .unwrap();
    let c = app.login(super::SUPPORT.0, super::SUPPORT.1).await;
    let keys: Vec<String> = convs[..2].iter().map(|id| format!("ids[{id}]")).collect();
    let label_id = label.id.to_string();
    let mut args: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "on")).collect();
    args.extend([("label_id", label_id.as_str()), ("op", "add")]);
    let r = app.call(&c, "/api/conversations/label", &args).await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let labelled = |id: i64| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM conversation_labels WHERE conversation_id = $1 AND label_id = $2",
        )
        .bind(id)
        .bind(label.id)
        .fetch_one(&db.read)
        .await
        .unwrap()
    };
    assert_eq!(labelled(convs[0]).await, 1);
    assert_eq!(labelled(convs[1]).await, 1);
    assert_eq!(labelled(convs[2]).await, 0, "not ticked");
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM events WHERE kind = 'label_added' AND conversation_id = $1",
    )
    .bind(convs[0])
    .fetch_all(&db.read)
    .await
    .unwrap();
    let this_label = format!("\"label_id\":{}", label.id);
    assert_eq!(
        events.iter().filter(|d| d.contains(&this_label)).count(),
        1,
        "{events:?}"
    );
    // Removing from one.
    let one = [
        (keys[0].as_str(), "on"),
        ("label_id", label_id.as_str()),
        ("op", "remove"),
    ];
    assert!(app
        .call(&c, "/api/conversations/label", &one)
        .await
        .status()
        .is_success());
    assert_eq!(labelled(convs[0]).await, 0);
    assert_eq!(labelled(convs[1]).await, 1);
    // Nothing ticked, or a bad operation: refused in words.
    let none = [("label_id", label_id.as_str()), ("op", "add")];
    let r = app.call(&c, "/api/conversations/label", &none).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Tick the conversations"));
    let bad = [
        (keys[0].as_str(), "on"),
        ("label_id", label_id.as_str()),
        ("op", "toggle"),
    ];
    assert_eq!(
        app.call(&c, "/api/conversations/label", &bad)
            .await
            .status(),
        400
    );
}

mod list_labels {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::the_list_labels_several_conversations(crate::support::Engine::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::the_list_labels_several_conversations(crate::support::Engine::Postgres).await
    }
}
