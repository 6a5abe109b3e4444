//! Provisioning read as Grafana reads it: the reference and fixture
//! folders unchanged, environment interpolation, errors with their place,
//! one broken file beside good ones, `deleteDatasources`, rescans,
//! `foldersFromFilesStructure`, and every fixture dashboard.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dashboard::provisioning::{Env, Ids, Provisioned, Provisioner};

fn shared() -> PathBuf {
    testkit::shared_dir()
}

fn env(pairs: &[(&str, &str)]) -> Env {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Arc::new(move |name| map.get(name).cloned())
}

fn provisioner(dir: &Path, vars: &[(&str, &str)]) -> Provisioner {
    Provisioner::new(Some(dir.to_owned()), env(vars), Arc::new(Ids::default()))
}

fn load(dir: &Path) -> Provisioned {
    provisioner(dir, &[]).load().unwrap()
}

/// Writes `files` (path relative to `root`, content) and returns `root`.
fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn problems(p: &Provisioned) -> Vec<String> {
    p.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn the_reference_folder_loads_unchanged() {
    let dir = shared().join("reference/config/grafana");
    let p = load(&dir);
    assert_eq!(problems(&p), Vec::<String>::new());
    let names: Vec<_> = p
        .datasources
        .all()
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["Loki", "Prometheus"]);
    let loki = p.datasources.by_uid("loki-datasource").unwrap();
    assert_eq!(
        (loki.kind.as_str(), loki.url.as_str()),
        ("loki", "http://loki:3100")
    );
    assert_eq!(loki.access, "proxy");
    assert!(!loki.read_only, "editable: true");
    let prom = p.datasources.by_uid("prometheus-datasource").unwrap();
    assert_eq!(prom.url, "http://prometheus:9090");
    assert_ne!(prom.id, loki.id);

    // The provider's container path resolves inside the folder.
    assert_eq!(p.providers.len(), 1);
    let provider = &p.providers[0];
    assert_eq!(provider.name, "Grafana Fast API Metrics ");
    assert_eq!(provider.folder, "Fast API Metrics");
    assert_eq!(provider.path, dir.join("dashboards"));
    assert_eq!(provider.update_interval.as_secs(), 10);
    assert!(!provider.allow_ui_updates);
    // Its folder exists even before a dashboard is in it.
    assert_eq!(p.folders.len(), 1);
    assert_eq!(p.folders[0].title, "Fast API Metrics");
    assert!(p.dashboards.is_empty());
}

/// A provisioning folder made of links to the fixture files (they are
/// read where they are, never copied).
fn fixture_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = shared().join("fixtures");
    for (link, target) in [
        (
            "datasources/kludex-datasource.yml",
            "provisioning/kludex-datasource.yml",
        ),
        (
            "dashboards/kludex-dashboard.yml",
            "provisioning/kludex-dashboard.yml",
        ),
        (
            "dashboards/kludex-fastapi-dashboard.json",
            "dashboards/kludex-fastapi-dashboard.json",
        ),
    ] {
        let link = dir.path().join(link);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(fixtures.join(target), link).unwrap();
    }
    dir
}

#[test]
fn the_fixture_provisioning_loads() {
    let dir = fixture_folder();
    let p = load(dir.path());
    assert_eq!(problems(&p), Vec::<String>::new());
    // Deleted and inserted again by the same file: present.
    assert_eq!(p.datasources.all().len(), 1);
    let prom = &p.datasources.all()[0];
    assert_eq!(prom.name, "Prometheus");
    // No uid in the file: Grafana's uid for the name.
    assert_eq!(prom.uid, "PBFA97CFB590B2093");
    assert!(prom.is_default);
    assert!(!prom.basic_auth);
    assert!(!prom.with_credentials);
    assert_eq!(prom.json_data["graphiteVersion"], "1.1");
    assert_eq!(prom.json_data["tlsAuth"], false);
    assert_eq!(prom.secure_json_data["tlsCACert"], "...");
    assert_eq!(prom.version, 1);

    let d = p.dashboard("_eX4mpl3").expect("the fixture dashboard");
    assert_eq!(d.title, "FastAPI Dashboard");
    assert_eq!(d.folder_title, "Services");
    assert_eq!(d.external_id, "kludex-fastapi-dashboard.json");
    assert_eq!(d.version, 1);
    assert_eq!(p.folder(&d.folder_uid).unwrap().title, "Services");
}

#[test]
fn values_are_interpolated_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "datasources/env.yaml",
            "apiVersion: 1\ndatasources:\n  - name: ${NAME}\n    type: prometheus\n    url: http://$HOST:${PORT}\n    isDefault: $DEFAULT\n    version: ${VERSION}\n    basicAuthUser: $$USER\n    jsonData:\n      timeInterval: ${INTERVAL}\n      nested: [\"$HOST\", 5]\n    secureJsonData:\n      basicAuthPassword: pa$$$$word$SUFFIX\n",
        )],
    );
    let p = provisioner(
        dir.path(),
        &[
            ("NAME", "Metrics"),
            ("HOST", "prom.local"),
            ("PORT", "9091"),
            ("DEFAULT", "true"),
            ("VERSION", "3"),
            ("INTERVAL", "30s"),
            ("SUFFIX", "!"),
        ],
    )
    .load()
    .unwrap();
    assert_eq!(problems(&p), Vec::<String>::new());
    let ds = p.datasources.by_name("Metrics").unwrap();
    assert_eq!(ds.url, "http://prom.local:9091");
    assert!(ds.is_default);
    assert_eq!(ds.version, 3);
    assert_eq!(ds.basic_auth_user, "$USER");
    assert_eq!(ds.json_data["timeInterval"], "30s");
    assert_eq!(ds.json_data["nested"], serde_json::json!(["prom.local", 5]));
    assert_eq!(ds.secure_json_data["basicAuthPassword"], "pa$$word!");
}

#[test]
fn legacy_secrets_move_into_secure_json_data() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "datasources/a.yml",
            "apiVersion: 1\ndatasources:\n  - name: P\n    type: prometheus\n    user: u\n    database: db\n    password: pw\n    basicAuthPassword: bpw\n    secureJsonData:\n      password: kept\n",
        )],
    );
    let p = load(dir.path());
    let ds = p.datasources.by_name("P").unwrap();
    // secureJsonData wins over the legacy field it replaces.
    assert_eq!(ds.secure_json_data["password"], "kept");
    assert_eq!(ds.secure_json_data["basicAuthPassword"], "bpw");
    assert_eq!(p.legacy[&ds.uid].user, "u");
    assert_eq!(p.legacy[&ds.uid].database, "db");
}

/// Each case: a datasource file and the problem expected, with its place.
#[test]
fn problems_name_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "apiVersion: 1\ndatasources:\n  - name: A\n    type: prometheus\n    isDefault: true\n  - name: B\n    type: loki\n    isDefault: true\n",
            "bad.yaml:6:3: only one datasource per organization can be marked as default",
        ),
        (
            "datasources:\n  - name: A\n    type: prometheus\n    uid: same\n  - name: B\n    type: loki\n    uid: same\n",
            "bad.yaml:5:3: datasource \"B\": uid \"same\" is already used by datasource \"A\"",
        ),
        (
            "datasources:\n  - type: prometheus\n    url: http://x\n",
            "bad.yaml:2:3: datasource without a name",
        ),
        (
            "datasources:\n  - name: A\n    type: prometheus\n    access: browser\n",
            "bad.yaml:2:3: datasource \"A\": access \"browser\" is invalid",
        ),
        (
            "datasources:\n  - name: A\n    type: prometheus\n    isDefault: maybe\n",
            "bad.yaml:4:16: datasources[0].isDefault: invalid boolean \"maybe\"",
        ),
        (
            "datasources:\n  - name: A\n    type: prometheus\n  url: [\n",
            "bad.yaml:4:",
        ),
    ];
    for (text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("datasources/bad.yaml", text)]);
        let p = load(dir.path());
        let found = problems(&p);
        let prefix = dir.path().join("datasources").display().to_string() + "/";
        assert!(
            found.iter().any(|f| f
                .strip_prefix(&prefix)
                .is_some_and(|f| f.starts_with(expected))),
            "{text}\nexpected {expected:?}\nfound {found:?}"
        );
    }
}

#[test]
fn a_broken_file_never_takes_the_others_down() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "datasources/1-good.yml",
                "datasources:\n  - name: Good\n    type: prometheus\n",
            ),
            ("datasources/2-broken.yml", "datasources:\n  - name: [\n"),
            (
                "datasources/3-good.yaml",
                "datasources:\n  - name: Also\n    type: loki\n",
            ),
            ("datasources/ignored.txt", "not: [yaml"),
            (
                "dashboards/p.yml",
                "providers:\n  - name: p\n    options:\n      path: files\n  - name: broken\n  - name: p\n    options:\n      path: other\n",
            ),
            ("files/good.json", r#"{"title": "Good", "uid": "good"}"#),
            ("files/broken.json", "{\n  \"title\": \"Broken\",\n  ]\n}"),
            ("files/untitled.json", r#"{"uid": "untitled"}"#),
            ("files/z-dup.json", r#"{"title": "Dup", "uid": "good"}"#),
        ],
    );
    let p = load(dir.path());
    let names: Vec<_> = p
        .datasources
        .all()
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["Good", "Also"]);
    let uids: Vec<_> = p.dashboards.iter().map(|d| d.uid.as_str()).collect();
    assert_eq!(uids, ["good"]);
    let found = problems(&p);
    let expect = [
        "2-broken.yml:2:11: datasources[0].name: invalid type: sequence",
        "p.yml:5:3: dashboard provider \"broken\": options.path is missing",
        "p.yml:6:3: dashboard provider names must be unique",
        "broken.json:3:3: invalid dashboard JSON",
        "untitled.json: dashboard title cannot be empty",
        "z-dup.json: dashboard uid \"good\" is already used by",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.contains(e)),
            "{e:?} not in {found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn a_later_file_deletes_what_an_earlier_one_made() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "datasources/1.yml",
                "datasources:\n  - name: A\n    type: prometheus\n  - name: B\n    type: loki\n    uid: b\n",
            ),
            (
                "datasources/2.yml",
                "deleteDatasources:\n  - name: A\n    orgId: 1\n  - uid: b\ndatasources:\n  - name: C\n    type: prometheus\n",
            ),
            (
                "datasources/3.yml",
                "deleteDatasources:\n  - name: C\ndatasources:\n  - name: C\n    type: prometheus\n    url: http://again\n",
            ),
        ],
    );
    let p = load(dir.path());
    let names: Vec<_> = p
        .datasources
        .all()
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["C"]);
    assert_eq!(p.datasources.all()[0].url, "http://again");
}

#[test]
fn ids_and_generated_uids_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "datasources/a.yml",
                "datasources:\n  - name: A\n    type: prometheus\n  - name: B\n    type: loki\n",
            ),
            (
                "dashboards/p.yml",
                "providers:\n  - name: p\n    options:\n      path: files\n",
            ),
            ("files/sub/no-uid.json", r#"{"title": "No uid"}"#),
        ],
    );
    let first = load(dir.path());
    let second = load(dir.path());
    let uid = &first.dashboards[0].uid;
    assert_eq!(uid, &second.dashboards[0].uid, "same uid on every start");
    assert_eq!(first.dashboards[0].external_id, "sub/no-uid.json");
    let p = provisioner(dir.path(), &[]);
    let a = p.load().unwrap();
    let b = p.load().unwrap();
    for (x, y) in a.datasources.all().iter().zip(b.datasources.all()) {
        assert_eq!((x.id, &x.uid), (y.id, &y.uid));
    }
    assert_eq!(a.datasources.all()[0].id, 1);
    assert_eq!(a.datasources.all()[1].id, 2);
}

#[test]
fn a_rescan_picks_up_changed_added_and_removed_dashboards() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "dashboards/p.yml",
                "providers:\n  - name: p\n    updateIntervalSeconds: 3600\n    options:\n      path: files\n  - name: keep\n    disableDeletion: true\n    options:\n      path: kept\n",
            ),
            ("files/a.json", r#"{"title": "A", "uid": "a"}"#),
            ("files/b.json", r#"{"title": "B", "uid": "b"}"#),
            ("kept/k.json", r#"{"title": "K", "uid": "k"}"#),
        ],
    );
    let p = provisioner(dir.path(), &[]);
    let before = p.load().unwrap();
    let a1 = before.dashboard("a").unwrap().clone();
    assert_eq!(a1.version, 1);

    // Not due yet (an hour): nothing is read again.
    write(
        dir.path(),
        &[("files/a.json", r#"{"title": "A2", "uid": "a"}"#)],
    );
    assert_eq!(p.rescan(false).dashboard("a").unwrap().title, "A");

    write(
        dir.path(),
        &[("files/c.json", r#"{"title": "C", "uid": "c"}"#)],
    );
    std::fs::remove_file(dir.path().join("files/b.json")).unwrap();
    std::fs::remove_file(dir.path().join("kept/k.json")).unwrap();
    let after = p.rescan(true);
    let a2 = after.dashboard("a").unwrap();
    assert_eq!(a2.title, "A2");
    assert_eq!(a2.version, 2);
    assert_eq!(a2.id, a1.id);
    assert!(after.dashboard("c").is_some(), "added");
    assert!(after.dashboard("b").is_none(), "removed");
    assert!(after.dashboard("k").is_some(), "kept: disableDeletion");
    // Unchanged content keeps its version.
    assert_eq!(p.rescan(true).dashboard("a").unwrap().version, 2);
}

#[test]
fn folders_come_from_the_files_structure() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "dashboards/p.yml",
                "providers:\n  - name: p\n    options:\n      path: files\n      foldersFromFilesStructure: true\n  - name: q\n    folder: F\n    options:\n      path: files\n      foldersFromFilesStructure: true\n",
            ),
            ("files/root.json", r#"{"title": "Root", "uid": "root"}"#),
            ("files/Team A/a.json", r#"{"title": "A", "uid": "a"}"#),
            ("files/Team B/deep/b.json", r#"{"title": "B", "uid": "b"}"#),
        ],
    );
    let p = load(dir.path());
    let folder_of = |uid: &str| p.dashboard(uid).unwrap().folder_title.clone();
    assert_eq!(folder_of("root"), "");
    assert_eq!(folder_of("a"), "Team A");
    assert_eq!(folder_of("b"), "deep");
    let mut titles: Vec<_> = p.folders.iter().map(|f| f.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["Team A", "deep"]);
    // A folder with foldersFromFilesStructure is refused, with its place.
    assert!(
        problems(&p)
            .iter()
            .any(|e| e.contains("p.yml:6:3") && e.contains("foldersFromFilesStructure")),
        "{:?}",
        problems(&p)
    );
}

#[test]
fn every_fixture_dashboard_loads() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = shared().join("fixtures/dashboards");
    write(
        dir.path(),
        &[(
            "dashboards/fixtures.yml",
            &format!(
                "apiVersion: 1\nproviders:\n  - name: fixtures\n    folder: Fixtures\n    options:\n      path: {}\n",
                fixtures.display()
            ),
        )],
    );
    let p = load(dir.path());
    assert_eq!(problems(&p), Vec::<String>::new());
    let count = std::fs::read_dir(&fixtures)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(p.dashboards.len(), count);
    assert!(p.dashboards.iter().all(|d| d.folder_title == "Fixtures"));
    assert!(p.dashboard("rYdddlPWk").is_some(), "Node Exporter Full");
}

#[test]
fn a_missing_provisioning_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_err(&dir.path().join("nope"));
    assert!(err.contains("nope"), "{err}");
}

fn load_err(dir: &Path) -> String {
    match provisioner(dir, &[]).load() {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    }
}
