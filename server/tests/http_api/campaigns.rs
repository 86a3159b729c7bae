//! The campaign endpoints for the role matrix (admin and marketing; support is refused).
//! Approving and cancelling change a campaign for good, so they are not repeatable: the
//! campaign tests (server/tests/campaigns.rs) cover them.

use crate::support::TestApp;
use app::domain::campaign::Definition;
use app::domain::Permission;

type Endpoint = (&'static str, Vec<(&'static str, String)>, Permission);

pub async fn endpoints(app: &TestApp) -> Vec<Endpoint> {
    let db = &app.state.db;
    let author: i64 = sqlx::query_scalar("SELECT id FROM users ORDER BY id LIMIT 1")
        .fetch_one(&db.read)
        .await
        .unwrap();
    let def = Definition::default();
    let id = app::service::campaigns::create(db, author, "Matrix campaign", &def)
        .await
        .unwrap()
        .to_string();
    let json = serde_json::to_string(&def).unwrap();
    vec![
        ("/api/campaigns", vec![], Permission::ManageCampaigns),
        (
            "/api/campaign",
            vec![("id", id.clone())],
            Permission::ManageCampaigns,
        ),
        ("/api/campaign/choices", vec![], Permission::ManageCampaigns),
        (
            "/api/campaign/preview",
            vec![("definition", json.clone())],
            Permission::ManageCampaigns,
        ),
        (
            "/api/campaign/save",
            vec![
                ("id", id.clone()),
                ("name", "Matrix campaign".into()),
                ("definition", json),
            ],
            Permission::ManageCampaigns,
        ),
        (
            "/api/campaign/recipients",
            vec![("id", id)],
            Permission::ManageCampaigns,
        ),
    ]
}
