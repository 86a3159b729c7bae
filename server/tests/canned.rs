//! Canned responses on both engines: shared ones kept by admins, personal ones by their owner,
//! who sees which, another user's personal response answered "not found", shortcuts unique
//! per scope (a personal one may share a shared one's shortcut), saving a shortcut you have
//! replacing it, refusals in words, and a response filled for a customer's SMS identifier.

use crate::support::{spawn_app, Engine, TestApp};
use app::domain::canned::{fill, Fill};
use app::domain::{ChannelKind, IdentifierKind, Role};
use app::model::CannedResponse;
use app::ports::InboundMessage;
use app::service::canned::{self, Editor};
use app::service::ingest::ingest_message;
use app::store::{channel_accounts, users, Db, StoreError};

const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");
const SUPPORT: (&str, &str) = ("support@convergence.test", "support-password-1");
const MARKETING: (&str, &str) = ("marketing@convergence.test", "marketing-password-1");

async fn user(db: &Db, email: &str, name: &str, role: Role) -> Editor {
    let id = users::create_user(db, email, name, role, "password-123")
        .await
        .unwrap();
    Editor {
        user_id: id,
        admin: role == Role::Admin,
    }
}

/// An admin, and two support agents.
async fn people(db: &Db) -> (Editor, Editor, Editor) {
    (
        user(db, "ada@example.com", "Ada Admin", Role::Admin).await,
        user(db, "sam@example.com", "Sam Lee", Role::Support).await,
        user(db, "kim@example.com", "Kim Park", Role::Support).await,
    )
}

async fn save(
    db: &Db,
    who: Editor,
    id: Option<i64>,
    shared: bool,
    shortcut: &str,
    body: &str,
) -> Result<CannedResponse, StoreError> {
    canned::save(
        db,
        who,
        id,
        shared,
        shortcut,
        &format!("Title {shortcut}"),
        body,
    )
    .await
}

fn shortcuts(list: &[CannedResponse]) -> Vec<(String, bool, bool)> {
    list.iter()
        .map(|r| (r.shortcut.clone(), r.shared, r.mine))
        .collect()
}

fn invalid(r: Result<impl std::fmt::Debug, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid(w)) | Err(StoreError::Conflict(w)) => w,
        other => panic!("expected a refusal in words, got {other:?}"),
    }
}

fn not_found(r: Result<impl std::fmt::Debug, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected not found, got {r:?}"
    );
}

async fn shared_and_personal_are_seen_by_whom_they_belong_to(db: Db) {
    let (admin, sam, kim) = people(&db).await;
    let thanks = save(
        &db,
        admin,
        None,
        true,
        "/Thanks",
        "Thanks, {{customer.first_name}}!",
    )
    .await
    .unwrap();
    assert!(thanks.shared && !thanks.mine);
    assert_eq!(thanks.shortcut, "thanks");
    // Sam's own /thanks next to the shared one, and one more.
    let mine = save(&db, sam, None, false, "thanks", "Cheers!")
        .await
        .unwrap();
    assert!(!mine.shared && mine.mine);
    save(&db, sam, None, false, "bye", "Bye {{customer.name}}")
        .await
        .unwrap();
    // Sharing needs an admin.
    let w = invalid(save(&db, sam, None, true, "hours", "9 to 5").await);
    assert!(w.contains("Only an admin"), "{w}");

    let sam_sees = canned::list(&db, sam.user_id).await.unwrap();
    assert_eq!(
        shortcuts(&sam_sees),
        vec![
            ("bye".into(), false, true),
            ("thanks".into(), false, true),
            ("thanks".into(), true, false),
        ]
    );
    // The picker offers Sam's own /thanks, not the shared one.
    let offered = app::domain::canned::matches("/than", &sam_sees);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].id, mine.id);
    // Kim sees the shared one only; the admin the shared one, not Sam's.
    let kim_sees = canned::list(&db, kim.user_id).await.unwrap();
    assert_eq!(shortcuts(&kim_sees), vec![("thanks".into(), true, false)]);
    let admin_sees = canned::list(&db, admin.user_id).await.unwrap();
    assert_eq!(shortcuts(&admin_sees), vec![("thanks".into(), true, false)]);
    assert_eq!(
        canned::get(&db, kim, thanks.id).await.unwrap().body,
        "Thanks, {{customer.first_name}}!"
    );
    not_found(canned::get(&db, kim, mine.id).await);
}

async fn only_owners_and_admins_change_them(db: Db) {
    let (admin, sam, kim) = people(&db).await;
    let shared = save(&db, admin, None, true, "hours", "9 to 5")
        .await
        .unwrap();
    let sams = save(&db, sam, None, false, "sig", "Sam").await.unwrap();

    // Another user's personal response is not found, whatever they do, even with bad fields.
    not_found(save(&db, kim, Some(sams.id), false, "sig", "Kim").await);
    not_found(save(&db, kim, Some(sams.id), false, "bad word", "").await);
    not_found(canned::delete(&db, kim, sams.id).await);
    not_found(canned::delete(&db, admin, sams.id).await);
    not_found(save(&db, sam, Some(999_999), false, "x", "x").await);
    // A shared one is changed by admins only.
    let w = invalid(save(&db, sam, Some(shared.id), false, "hours", "8 to 4").await);
    assert!(w.contains("Only an admin can change"), "{w}");
    assert!(invalid(canned::delete(&db, sam, shared.id).await).contains("Only an admin"));

    // The owner edits (the scope stays, whatever `shared` says) and the admin the shared one.
    let edited = save(&db, sam, Some(sams.id), true, "/Sign", "Sam Lee")
        .await
        .unwrap();
    assert_eq!(
        (edited.id, edited.shared, edited.shortcut.as_str()),
        (sams.id, false, "sign")
    );
    let edited = save(&db, admin, Some(shared.id), false, "hours", "8 to 4")
        .await
        .unwrap();
    assert!(edited.shared);
    let kim_sees = canned::list(&db, kim.user_id).await.unwrap();
    assert_eq!(kim_sees[0].body, "8 to 4");

    // Deleting.
    canned::delete(&db, sam, sams.id).await.unwrap();
    not_found(canned::delete(&db, sam, sams.id).await);
    canned::delete(&db, admin, shared.id).await.unwrap();
    assert!(canned::list(&db, sam.user_id).await.unwrap().is_empty());
}

async fn shortcuts_are_unique_per_scope_and_saving_one_again_replaces_it(db: Db) {
    let (admin, sam, kim) = people(&db).await;
    let first = save(&db, sam, None, false, "refund", "One").await.unwrap();
    // The same shortcut without an id replaces Sam's response: one row, the new words.
    let again = save(&db, sam, None, false, "REFUND", "Two").await.unwrap();
    assert_eq!(again.id, first.id);
    let list = canned::list(&db, sam.user_id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].body, "Two");
    // Kim and the shared scope have their own /refund.
    let kims = save(&db, kim, None, false, "refund", "Kim's")
        .await
        .unwrap();
    assert_ne!(kims.id, first.id);
    let shared = save(&db, admin, None, true, "refund", "Shared")
        .await
        .unwrap();
    let shared_again = save(&db, admin, None, true, "refund", "Shared 2")
        .await
        .unwrap();
    assert_eq!(shared_again.id, shared.id);
    // Renaming onto a shortcut the scope has is a conflict, in words.
    let other = save(&db, sam, None, false, "late", "Late").await.unwrap();
    let w = invalid(save(&db, sam, Some(other.id), false, "refund", "Late").await);
    assert!(w.contains("/refund already"), "{w}");
    let hours = save(&db, admin, None, true, "hours", "9 to 5")
        .await
        .unwrap();
    let w = invalid(save(&db, admin, Some(hours.id), true, "refund", "x").await);
    assert!(w.contains("shared response /refund"), "{w}");
    // A response keeps its own shortcut when saved again.
    save(&db, sam, Some(other.id), false, "late", "Later")
        .await
        .unwrap();
    // Sam sees their /refund and /late, and the shared /refund and /hours.
    assert_eq!(canned::list(&db, sam.user_id).await.unwrap().len(), 4);
}

async fn bad_fields_are_refused_in_words(db: Db) {
    let (_, sam, _) = people(&db).await;
    for (shortcut, title, body, words) in [
        ("", "T", "B", "needs a shortcut"),
        ("two words", "T", "B", "only letters"),
        (&*"s".repeat(33), "T", "B", "at most 32"),
        ("ok", " ", "B", "needs a title"),
        ("ok", &*"t".repeat(81), "B", "at most 80"),
        ("ok", "T", " \n", "needs a text"),
        ("ok", "T", &*"b".repeat(5001), "at most 5,000"),
        (
            "ok",
            "T",
            "Hi {{custmer.name}}",
            "Unknown placeholder {{custmer.name}}: use {{customer.name}}",
        ),
    ] {
        let w = invalid(canned::save(&db, sam, None, false, shortcut, title, body).await);
        assert!(w.contains(words), "{shortcut:?} {title:?}: {w}");
    }
    assert!(canned::list(&db, sam.user_id).await.unwrap().is_empty());
    // Line ends from a form are kept as \n, the ends trimmed.
    let r = canned::save(&db, sam, None, false, " /ok ", " Fine ", " A\r\nB \r\n")
        .await
        .unwrap();
    assert_eq!(
        (r.shortcut.as_str(), r.title.as_str(), r.body.as_str()),
        ("ok", "Fine", "A\nB")
    );
}

async fn filled_for_a_customers_sms_identifier(db: Db) {
    let (admin, sam, _) = people(&db).await;
    channel_accounts::ensure_playground_accounts(&db)
        .await
        .unwrap();
    let acc = channel_accounts::playground_for(&db, ChannelKind::Sms)
        .await
        .unwrap()
        .unwrap();
    let msg = InboundMessage {
        identifier_kind: IdentifierKind::Phone,
        identifier: "+1 415 555 0101".into(),
        display_name: Some("Rita Alvarez".into()),
        provider_message_id: "canned-1".into(),
        subject: None,
        body_text: "Where is my parcel?".into(),
        body_html: None,
        received_at: 1_772_452_800_000,
        thread: Default::default(),
        automatic: false,
        meta: None,
        attachments: Vec::new(),
        media: Vec::new(),
    };
    let got = ingest_message(&db, &acc, None, &msg).await.unwrap();
    let detail = app::service::conversations::detail(&db, got.conversation_id)
        .await
        .unwrap();
    let sms = detail
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Sms && o.identifier_id == got.identifier_id)
        .expect("an SMS reply option");
    assert!(!sms.identifier_label.is_empty());
    save(
        &db,
        admin,
        None,
        true,
        "number",
        "Hi {{customer.first_name}}, we will text {{ customer.identifier }}. \
         {{agent.first_name}} ({{agent.name}}) for {{customer.name}}",
    )
    .await
    .unwrap();
    let list = canned::list(&db, sam.user_id).await.unwrap();
    let r = app::domain::canned::matches("/num", &list)[0];
    let f = Fill {
        customer_name: detail.customer.name.clone(),
        agent_name: "Sam Lee".into(),
        identifier: Some(sms.identifier_label.clone()),
    };
    assert_eq!(
        fill(&r.body, &f),
        format!(
            "Hi Rita, we will text {}. Sam (Sam Lee) for Rita Alvarez",
            sms.identifier_label
        )
    );
    assert!(
        sms.identifier_label.contains("555"),
        "{}",
        sms.identifier_label
    );
}

/// A form posted without JavaScript: the answer sends the browser back to the page.
async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> String {
    let back = app.url("/canned");
    let r = c
        .post(app.url(path))
        .header("Origin", &app.addr)
        .header("Referer", &back)
        .header("Accept", "text/html,application/xhtml+xml")
        .form(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{path}: {}", r.status());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&back), "back to the page: {location}");
    location
}

async fn page(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c
        .get(url)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The page, server-rendered, and its forms posted without JavaScript; the composer names
/// its list.
async fn the_page_works_without_javascript(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let hello = [
        ("shortcut", "hello"),
        ("title", "Greeting"),
        ("body", "Hello {{customer.first_name}}"),
        ("shared", "on"),
    ];
    post_form(&app, &admin, "/api/canned/save", &hello).await;
    let support = app.login(SUPPORT.0, SUPPORT.1).await;
    let mine = [
        ("shortcut", "mine"),
        ("title", "Mine"),
        ("body", "Mine, {{agent.name}}"),
    ];
    post_form(&app, &support, "/api/canned/save", &mine).await;
    // A refusal comes back to the page in words.
    let bad = [("shortcut", "two words"), ("title", "T"), ("body", "B")];
    let location = post_form(&app, &support, "/api/canned/save", &bad).await;
    let (status, html) = page(&support, &location).await;
    assert_eq!(status, 200);
    assert!(html.contains("only letters a to z"), "{html}");

    let (status, html) = page(&support, &app.url("/canned")).await;
    assert_eq!(status, 200, "{html}");
    for words in [
        "/hello",
        "Shared",
        "/mine",
        "aria-label=\"Edit /mine\"",
        "Add a response",
        "for=\"canned-new-shortcut\"",
    ] {
        assert!(html.contains(words), "support: {words:?} in {html}");
    }
    assert!(!html.contains("Edit /hello") && !html.contains("name=\"shared\""));
    let (_, html) = page(&admin, &app.url("/canned")).await;
    assert!(html.contains("Edit /hello") && html.contains("name=\"shared\""));
    assert!(!html.contains("/mine"));
    let marketing = app.login(MARKETING.0, MARKETING.1).await;
    let (status, html) = page(&marketing, &app.url("/canned")).await;
    assert_eq!(status, 403);
    assert!(!html.contains("href=\"/canned\""));

    // The reply box names the list it opens (empty until the agent types).
    let conv: i64 = sqlx::query_scalar("SELECT id FROM conversations ORDER BY id LIMIT 1")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    let (status, html) = page(&support, &app.url(&format!("/inbox/{conv}"))).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("aria-controls=\"canned-options\"") && html.contains("id=\"canned-options\""),
        "{html}"
    );
    // The composer links to the list (the top bar stays short on a phone).
    assert!(html.contains("href=\"/canned\""), "{html}");
}

both_engines!(
    shared_and_personal_are_seen_by_whom_they_belong_to,
    only_owners_and_admins_change_them,
    shortcuts_are_unique_per_scope_and_saving_one_again_replaces_it,
    bad_fields_are_refused_in_words,
    filled_for_a_customers_sms_identifier,
    the_page_works_without_javascript,
);
