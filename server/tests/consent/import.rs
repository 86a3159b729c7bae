//! `server import-consent`: good and bad lines, per-line words, a re-run adds nothing, an
//! older line does not override a newer change; the command line itself.

use super::harness::*;
use crate::support::Engine;
use app::domain::consent::Purpose;
use app::service;
use app::store::{channel_accounts, Db};
use server::cli::import_consent::{import, parse_time};

const FILE: &str = "kind,value,purpose,granted,detail,time\n\
email,ADA.Lovelace@Example.com,marketing,yes,newsletter form,2026-01-15\n\
phone,(415) 555-0101,marketing,no,,\n\
phone,+1 415 555 0101,marketing,yes,old list,2025-01-01 08:00\n\
email,nobody@example.com,marketing,yes\n\
fax,123,marketing,yes\n\
email,ada.lovelace@example.com,newsletter,yes\n\
whatsapp,\"+1 (415) 555-0101\",support,maybe\n\
email,grace@navy.example.org,support,no,\"said \"\"stop\"\", firmly\"\n";

async fn demo_db(engine: Engine) -> crate::support::TestDb {
    let t = crate::support::test_db(engine).await;
    channel_accounts::ensure_playground_accounts(&t.db)
        .await
        .unwrap();
    server::demo_data::load_if_empty(&t.db).await.unwrap();
    t
}

async fn lines_are_recorded_reported_and_never_twice(engine: Engine) {
    let t = demo_db(engine).await;
    let db: &Db = &t.db;
    let ada = customer(db, "Ada Lovelace").await;
    let grace = customer(db, "Grace Hopper").await;
    let r = import(db, FILE, "US").await.unwrap();
    assert_eq!(r.recorded, 3, "{}", r.text());
    assert_eq!(r.unchanged, 0);
    let lines: Vec<usize> = r.errors.iter().map(|e| e.0).collect();
    assert_eq!(lines, vec![5, 6, 7, 8], "{}", r.text());
    let text = r.text();
    for words in [
        "line 5: no customer has the email address nobody@example.com",
        "line 6: \"fax\" is not an identifier kind",
        "line 7: \"newsletter\" is not a purpose",
        "line 8: \"maybe\" is not yes or no",
        "line 4: not applied, a later change holds: opted out on",
        "3 recorded, 0 already imported, 1 not applied, 4 with errors",
    ] {
        assert!(text.contains(words), "{words:?} in:\n{text}");
    }

    let e = changes(db, ada.id_of("email"), Purpose::Marketing).await;
    assert_eq!(e.len(), 1);
    assert!(e[0].granted);
    assert_eq!(e[0].source, "import");
    assert_eq!(e[0].detail.as_deref(), Some("newsletter form"));
    assert_eq!(e[0].at, parse_time("2026-01-15").unwrap(), "the time given");
    let p = changes(db, ada.id_of("phone"), Purpose::Marketing).await;
    assert_eq!(
        p.len(),
        1,
        "the national form met the stored E.164 number: {p:?}"
    );
    assert!(!p[0].granted);
    let g = changes(db, grace.id_of("email"), Purpose::Support).await;
    assert_eq!(g[0].detail.as_deref(), Some("said \"stop\", firmly"));

    // The same file again: nothing new.
    let n = count_changes(db).await;
    let again = import(db, FILE, "US").await.unwrap();
    assert_eq!(
        (again.recorded, again.unchanged),
        (0, 3),
        "{}",
        again.text()
    );
    assert_eq!(again.errors.len(), 4);
    assert_eq!(count_changes(db).await, n);

    // After the customer opts back in, re-importing the old opt-out changes nothing either.
    service::consent::record_by_agent(
        db,
        &service::consent::AgentChange {
            identifier_id: ada.id_of("phone"),
            purpose: Purpose::Marketing,
            granted: true,
            reason: "asked for offers".into(),
            all_channels: false,
        },
        user_id(db, SUPPORT.0).await,
        "Sam Support",
    )
    .await
    .unwrap();
    import(db, FILE, "US").await.unwrap();
    let p = changes(db, ada.id_of("phone"), Purpose::Marketing).await;
    assert!(p.last().unwrap().granted, "the newer change holds: {p:?}");

    // A broken file is refused whole, in words.
    let bad = import(db, "email,\"never closed,marketing,yes\n", "US")
        .await
        .unwrap();
    assert_eq!(bad.recorded, 0);
    assert!(
        bad.text()
            .contains("line 1: a quoted field is never closed"),
        "{}",
        bad.text()
    );
}

async fn the_command_line_imports_and_reports(engine: Engine) {
    let t = demo_db(engine).await;
    let dir = std::env::temp_dir().join(format!(
        "convergence_import_{}_{}",
        std::process::id(),
        app::store::now_ms()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("consent.csv");
    std::fs::write(
        &file,
        "email,grace@navy.example.org,marketing,yes\nphone,020 7946 0958,marketing,no\n",
    )
    .unwrap();
    let run = |region: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["import-consent", "--file"])
            .arg(&file)
            .args(["--region", region])
            .env("CONVERGENCE_DATABASE_URL", &t.db.url)
            .env("CONVERGENCE_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run("GB");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "one line has no customer");
    assert!(
        stdout.contains("line 2: no customer has the phone +442079460958"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 recorded, 0 already imported"),
        "{stdout}"
    );
    assert!(stderr.contains("1 line could not be imported"), "{stderr}");
    let again = run("GB");
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 recorded, 1 already imported"));
    let bad = run("Narnia");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a region"));
    let grace = customer(&t.db, "Grace Hopper").await;
    assert_eq!(
        changes(&t.db, grace.id_of("email"), Purpose::Marketing)
            .await
            .len(),
        1
    );
    let _ = std::fs::remove_dir_all(dir);
}

crate::both_engines!(
    lines_are_recorded_reported_and_never_twice,
    the_command_line_imports_and_reports
);
