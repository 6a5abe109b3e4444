//! Builds the web UI (`ui/` at the repository root) with Node.js and embeds
//! the bundle: `npm ci` when `ui/node_modules` is missing or older than the
//! lockfile, then `node build.mjs` into `OUT_DIR/ui`, then a generated
//! `ui_assets.rs` that includes every file of the bundle.
//!
//! Cargo reruns this only when something under `ui/` that the bundle is
//! made from changes, so a warm build does not touch Node.js.
//!
//! Each text file of the bundle is also gzipped here (once, at the best
//! level, instead of on every request), and gets an ETag from its content.
//! `index.html`'s references to the bundle's files carry that tag
//! (`/public/app.js?v=<etag>`), so the server can let browsers cache the
//! files for good and still never serve a stale one after an upgrade.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let ui = manifest.join("../../ui");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for input in [
        "src",
        "package.json",
        "package-lock.json",
        "build.mjs",
        "tsconfig.json",
    ] {
        println!("cargo::rerun-if-changed={}", ui.join(input).display());
    }
    println!("cargo::rerun-if-env-changed=VIGIL_NODE");

    let node = env::var("VIGIL_NODE").unwrap_or_else(|_| "node".to_owned());
    check_node(&node);
    if needs_install(&ui) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&ui),
            "npm ci",
        );
    }
    let dist = out.join("ui");
    let _ = fs::remove_dir_all(&dist);
    run(
        Command::new(&node)
            .arg("build.mjs")
            .arg("--outdir")
            .arg(&dist)
            .current_dir(&ui),
        "node build.mjs",
    );
    write_assets(&dist, &out.join("ui_assets.rs"));
}

fn check_node(node: &str) {
    let found = Command::new(node).arg("--version").output();
    let version = match found {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
        _ => fail(&format!(
            "vigil's web UI is built with Node.js, and `{node}` was not found.\n\
             Install Node.js 20 or newer with npm (for example `apt-get install nodejs npm`), \
             then run the command again. The binary itself needs no Node.js at run time."
        )),
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        fail(&format!(
            "vigil's web UI needs Node.js 20 or newer; `{node}` is {version}."
        ));
    }
}

/// `npm ci` is needed when the packages are missing or the lockfile changed
/// after they were installed (npm writes `node_modules/.package-lock.json`).
fn needs_install(ui: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (
        modified(&ui.join("node_modules/.package-lock.json")),
        modified(&ui.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

fn run(command: &mut Command, what: &str) {
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) => fail(&format!(
            "building vigil's web UI: `{what}` failed ({status}); its output is above"
        )),
        Err(e) => fail(&format!(
            "building vigil's web UI: could not run `{what}`: {e}. Node.js 20 or newer with npm is needed at build time."
        )),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

/// Writes `static ASSETS: &[Asset]`, path relative to the bundle root
/// with `/` separators, sorted; each with its gzipped form (for text
/// files that shrink) and its ETag.
fn write_assets(dist: &Path, target: &Path) {
    let mut files = Vec::new();
    collect(dist, dist, &mut files);
    files.sort();
    let tags: Vec<(String, String)> = files
        .iter()
        .map(|(name, path)| {
            let bytes = fs::read(path)
                .unwrap_or_else(|e| fail(&format!("reading {}: {e}", path.display())));
            (name.clone(), etag(&bytes))
        })
        .collect();
    let out_dir = target.parent().expect("OUT_DIR").join("ui-served");
    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| fail(&format!("creating {}: {e}", out_dir.display())));
    let mut text = String::from("pub(crate) static ASSETS: &[Asset] = &[\n");
    for (i, (name, path)) in files.iter().enumerate() {
        let mut bytes =
            fs::read(path).unwrap_or_else(|e| fail(&format!("reading {}: {e}", path.display())));
        let mut served = path.clone();
        if name == "index.html" {
            // Point the page at this build's files.
            let mut html = String::from_utf8_lossy(&bytes).into_owned();
            for (other, tag) in &tags {
                if other != "index.html" {
                    html = html.replace(
                        &format!("\"/public/{other}\""),
                        &format!("\"/public/{other}?v={tag}\""),
                    );
                }
            }
            bytes = html.into_bytes();
            served = out_dir.join(format!("{i}"));
            write_file(&served, &bytes);
        }
        let tag = etag(&bytes);
        let gzip = if is_text(name) {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder
                .write_all(&bytes)
                .unwrap_or_else(|e| fail(&format!("gzip: {e}")));
            let gz = encoder
                .finish()
                .unwrap_or_else(|e| fail(&format!("gzip: {e}")));
            (gz.len() < bytes.len()).then(|| {
                let gz_path = out_dir.join(format!("{i}.gz"));
                write_file(&gz_path, &gz);
                gz_path
            })
        } else {
            None
        };
        let gzip = match gzip {
            Some(p) => format!("Some(include_bytes!({:?}))", p.display().to_string()),
            None => "None".to_owned(),
        };
        text.push_str(&format!(
            "    Asset {{ name: {name:?}, bytes: include_bytes!({:?}), gzip: {gzip}, etag: {tag:?} }},\n",
            served.display().to_string()
        ));
    }
    text.push_str("];\n");
    write_file(target, text.as_bytes());
}

fn write_file(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| fail(&format!("writing {}: {e}", path.display())));
}

fn is_text(name: &str) -> bool {
    matches!(
        name.rsplit('.').next(),
        Some("js" | "css" | "html" | "svg" | "json" | "map" | "txt")
    )
}

/// A strong ETag: 16 hex digits of the FNV-1a hash of the content.
fn etag(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("reading {}: {e}", dir.display())));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| fail(&format!("reading {}: {e}", dir.display())))
            .path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let name = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            files.push((name, path));
        }
    }
}
