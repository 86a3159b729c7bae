//! The server binary's command line: configuration help and the first-admin command.

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_server"))
}

#[test]
fn help_lists_every_environment_variable() {
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "CONVERGENCE_DATABASE_URL",
        "CONVERGENCE_LISTEN",
        "CONVERGENCE_PUBLIC_URL",
        "CONVERGENCE_SECRET_KEY",
        "CONVERGENCE_DEMO_DATA",
        "CONVERGENCE_RETRY_HORIZON",
    ] {
        assert!(help.contains(var), "--help does not mention {var}:\n{help}");
    }
}

#[test]
fn bad_database_url_is_a_clear_error() {
    let out = server()
        .args(["migrate"])
        .env("CONVERGENCE_DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");
}

#[tokio::test]
async fn create_admin_makes_an_admin_who_can_sign_in() {
    let dir = std::env::temp_dir().join(format!("convergence_cli_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/cli.db", dir.display());
    let run = |pw: Option<&str>| {
        let mut c = server();
        c.args([
            "create-admin",
            "--email",
            "Boss@Example.com",
            "--name",
            "The Boss",
        ])
        .env("CONVERGENCE_DATABASE_URL", &url);
        match pw {
            Some(p) => c.env("CONVERGENCE_ADMIN_PASSWORD", p),
            None => c.env_remove("CONVERGENCE_ADMIN_PASSWORD"),
        };
        c.output().unwrap()
    };
    let missing = run(None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("CONVERGENCE_ADMIN_PASSWORD"));
    let ok = run(Some("a sufficiently long passphrase"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let again = run(Some("a sufficiently long passphrase"));
    assert!(
        !again.status.success(),
        "a second admin with the same email is refused"
    );
    let db = app::store::Db::connect(&url).await.unwrap();
    let u = app::store::users::find_by_email(&db, "boss@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.role, app::domain::Role::Admin);
    assert!(app::store::users::verify_password(
        "a sufficiently long passphrase",
        &u.password_hash
    ));
    db.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
