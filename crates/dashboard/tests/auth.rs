//! Logins, sessions, the password change, rate limits, CSRF and anonymous
//! access, through a real server.

mod common;

use base64::Engine;
use common::Server;
use dashboard::auth::SecurityOptions;

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn unauthenticated_api_calls_get_401_and_pages_a_redirect_to_login() {
    let server = Server::start(SecurityOptions::default()).await;
    for path in [
        "/api/user",
        "/api/search",
        "/api/datasources",
        "/api/nothing-here",
    ] {
        let (status, body) = server.get(path, None).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(body, r#"{"message":"Unauthorized"}"#, "{path}");
    }
    let response = server
        .client
        .get(server.url("/d/abc/slug?from=now-1h"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(
        response.headers()["location"],
        "/login?redirectTo=%2Fd%2Fabc%2Fslug%3Ffrom%3Dnow-1h"
    );
    // A cookie that names no session is no better than none.
    let (status, _) = server
        .get("/api/user", Some("grafana_session=0123abcd"))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_public_paths_need_no_login() {
    let server = Server::start(SecurityOptions::default()).await;
    for path in ["/login", "/api/health", "/public/app.js"] {
        let (status, _) = server.get(path, None).await;
        assert_ne!(status, 401, "{path}");
        assert_ne!(status, 302, "{path}");
        assert_ne!(
            status, 405,
            "{path}: GET and POST /login live in two modules"
        );
    }
}

#[tokio::test]
async fn login_sets_a_session_cookie_and_logout_ends_it() {
    let server = Server::start(SecurityOptions::default()).await;
    let response = server
        .client
        .post(server.url("/login"))
        .header("content-type", "application/json")
        .body(r#"{"user":"admin","password":"admin"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("grafana_session="), "{set_cookie}");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(set_cookie.contains(part), "{part} missing: {set_cookie}");
    }
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Logged in");
    assert_eq!(body["redirectUrl"], "/");
    assert_eq!(body["isDefaultPassword"], true);
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let (status, body) = server.get("/api/user", Some(&cookie)).await;
    assert_eq!(status, 200, "{body}");
    let user: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["login"], "admin");
    assert_eq!(user["isGrafanaAdmin"], true);
    assert_eq!(user["orgId"], 1);
    assert_eq!(user["isDefaultPassword"], true);

    // Only the token's hash is in the database.
    let token = cookie.trim_start_matches("grafana_session=").to_owned();
    let db = server.dashboards.state().store.path().to_owned();
    let stored: Vec<String> = {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut stmt = conn.prepare("SELECT token_hash FROM session").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    let response = server
        .client
        .get(server.url("/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(response.headers()["location"], "/login");
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = server.get("/api/user", Some(&cookie)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_form_login_redirects_to_its_target() {
    let server = Server::start(SecurityOptions::default()).await;
    let response = server
        .client
        .post(server.url("/login?redirectTo=/d/abc"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=admin&password=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(response.headers()["location"], "/d/abc");
    assert!(response.headers().contains_key("set-cookie"));
}

#[tokio::test]
async fn a_wrong_password_or_user_gets_401() {
    let server = Server::start(SecurityOptions::default()).await;
    for (user, password) in [("admin", "nope"), ("nobody", "admin"), ("admin", "")] {
        let (status, body, cookie) = server.login(user, password).await;
        assert_eq!(status, 401, "{user}/{password}");
        assert_eq!(body["message"], "Invalid username or password");
        assert!(cookie.is_none());
    }
    let (status, _, _) = server.login("", "admin").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_sixth_attempt_after_five_failures_is_rate_limited() {
    let server = Server::start(SecurityOptions::default()).await;
    for attempt in 1..=5 {
        let (status, _, _) = server.login("admin", "wrong").await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    // Even the right password is refused while blocked.
    let (status, body, cookie) = server.login("admin", "admin").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        body["message"],
        "Too many consecutive incorrect login attempts for user - login for user temporarily blocked"
    );
    assert!(cookie.is_none());
    // Basic auth counts against the same limit.
    let response = server
        .client
        .get(server.url("/api/user"))
        .header("authorization", basic("admin", "admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
}

#[tokio::test]
async fn failures_from_one_address_block_other_users_too() {
    let server = Server::start(SecurityOptions::default()).await;
    for n in 0..5 {
        let (status, _, _) = server.login(&format!("guess{n}"), "x").await;
        assert_eq!(status, 401);
    }
    let (status, _, _) = server.login("admin", "admin").await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn the_limit_can_be_turned_off() {
    let server = Server::start(SecurityOptions {
        disable_brute_force_login_protection: true,
        ..SecurityOptions::default()
    })
    .await;
    for _ in 0..6 {
        let (status, _, _) = server.login("admin", "wrong").await;
        assert_eq!(status, 401);
    }
    let (status, _, _) = server.login("admin", "admin").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn changing_the_default_password() {
    let server = Server::start(SecurityOptions::default()).await;
    let cookie = server.session("admin", "admin").await;
    let other = server.session("admin", "admin").await;
    let change = |old: &str, new: &str, confirm: &str| serde_json::json!({"oldPassword": old, "newPassword": new, "confirmNew": confirm});
    let put = |body: serde_json::Value| {
        server
            .client
            .put(server.url("/api/user/password"))
            .header("cookie", &cookie)
            .header("origin", server.origin())
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    for (body, status, text) in [
        (
            change("wrong", "s3cret!", "s3cret!"),
            401,
            "Invalid old password",
        ),
        (
            change("admin", "abc", "abc"),
            400,
            "New password is too short",
        ),
        (
            change("admin", "s3cret!", "other"),
            400,
            "New password and confirmation do not match",
        ),
        (
            change("admin", "s3cret!", "s3cret!"),
            200,
            "User password changed",
        ),
    ] {
        let response = put(body).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{text}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["message"], text);
    }
    // This session stays, the other one is revoked.
    let (status, body) = server.get("/api/user", Some(&cookie)).await;
    assert_eq!(status, 200);
    let user: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["isDefaultPassword"], false);
    let (status, _) = server.get("/api/user", Some(&other)).await;
    assert_eq!(status, 401);
    // The old password no longer works, the new one does.
    let (status, _, _) = server.login("admin", "admin").await;
    assert_eq!(status, 401);
    let (status, body, _) = server.login("admin", "s3cret!").await;
    assert_eq!(status, 200);
    assert_eq!(body["isDefaultPassword"], false);
}

#[tokio::test]
async fn the_admin_comes_from_the_security_options() {
    let server = Server::start(SecurityOptions {
        admin_user: "root".into(),
        admin_password: "hunter22".into(),
        ..SecurityOptions::default()
    })
    .await;
    let (status, _, _) = server.login("admin", "admin").await;
    assert_eq!(status, 401);
    let cookie = server.session("root", "hunter22").await;
    let (_, body) = server.get("/api/user", Some(&cookie)).await;
    let user: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["login"], "root");
    assert_eq!(user["isDefaultPassword"], false);
}

#[tokio::test]
async fn cross_origin_writes_with_the_cookie_are_refused() {
    let server = Server::start(SecurityOptions::default()).await;
    let cookie = server.session("admin", "admin").await;
    let prefs = serde_json::json!({"theme": "dark"}).to_string();
    let put = |origin: Option<(&'static str, String)>| {
        let mut request = server
            .client
            .put(server.url("/api/user/preferences"))
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(prefs.clone());
        if let Some((name, value)) = origin {
            request = request.header(name, value);
        }
        request.send()
    };
    let cases = [
        (Some(("origin", "http://evil.example".to_owned())), 403),
        (
            Some(("referer", "http://evil.example/page".to_owned())),
            403,
        ),
        (Some(("origin", server.origin())), 200),
        (Some(("referer", format!("{}/d/x", server.origin()))), 200),
        (None, 200),
    ];
    for (origin, want) in cases {
        let response = put(origin.clone()).await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, want, "{origin:?}: {body}");
        if want == 403 {
            assert_eq!(body, serde_json::json!({"message": "origin not allowed"}));
        }
    }
    // A cross-site login form is refused too.
    let response = server
        .client
        .post(server.url("/login"))
        .header("origin", "http://evil.example")
        .header("content-type", "application/json")
        .body(r#"{"user":"admin","password":"admin"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

#[tokio::test]
async fn basic_auth_works_for_tools_and_is_not_csrf_checked() {
    let server = Server::start(SecurityOptions::default()).await;
    let response = server
        .client
        .put(server.url("/api/user/preferences"))
        .header("authorization", basic("admin", "admin"))
        .header("origin", "http://elsewhere.example")
        .header("content-type", "application/json")
        .body(r#"{"timezone":"utc"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let response = server
        .client
        .get(server.url("/api/user/preferences"))
        .header("authorization", basic("admin", "admin"))
        .send()
        .await
        .unwrap();
    let prefs: serde_json::Value = response.json().await.unwrap();
    assert_eq!(prefs, serde_json::json!({"timezone": "utc"}));
    let response = server
        .client
        .get(server.url("/api/user"))
        .header("authorization", basic("admin", "nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn the_anonymous_viewer_reads_but_cannot_write() {
    let server = Server::start(SecurityOptions {
        anonymous_enabled: true,
        ..SecurityOptions::default()
    })
    .await;
    let (status, body) = server.get("/api/user", None).await;
    assert_eq!(status, 200);
    let user: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["isAnonymous"], true);
    assert_eq!(user["isGrafanaAdmin"], false);
    let response = server
        .client
        .get(server.url("/d/abc"))
        .send()
        .await
        .unwrap();
    assert_ne!(response.status().as_u16(), 302);
    for (method, path) in [
        (reqwest::Method::PUT, "/api/user/password"),
        (reqwest::Method::PUT, "/api/user/preferences"),
        (reqwest::Method::POST, "/api/dashboards/db"),
    ] {
        let response = server
            .client
            .request(method.clone(), server.url(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{method} {path}");
    }
    // Running queries is reading: allowed (400 here for an empty request).
    let response = server
        .client
        .post(server.url("/api/ds/query"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}
