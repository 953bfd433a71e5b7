//! The files that put s3share on the desktop: the app's desktop entry ("Open with"), and the
//! context-menu entries for Nautilus, Dolphin and Thunar. Parsed as the desktops read them.

use std::collections::HashMap;
use std::path::Path;

/// The groups of a desktop entry file, each its keys (comments and blank lines skipped).
fn desktop_groups(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut groups: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_owned());
            groups.entry(name.to_owned()).or_default();
            continue;
        }
        let group = current.as_ref().expect("a key before any group");
        let (key, value) = line.split_once('=').expect("key=value");
        let previous = groups
            .get_mut(group)
            .expect("group")
            .insert(key.trim().to_owned(), value.trim().to_owned());
        assert!(previous.is_none(), "{key} twice in [{group}]");
    }
    groups
}

fn asset(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("assets/{name}: {e}"))
}

fn list(value: &str) -> Vec<&str> {
    value.split(';').filter(|s| !s.is_empty()).collect()
}

/// `Exec` runs s3share with the files after `--` (a file named like a command stays a file).
fn assert_takes_files(exec: &str) {
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(words, ["s3share", "--", "%F"], "{exec}");
}

#[test]
fn the_app_is_offered_for_any_file_and_folder() {
    let groups = desktop_groups(&asset("s3share.desktop"));
    let entry = &groups["Desktop Entry"];
    assert_eq!(entry["Type"], "Application");
    assert_takes_files(&entry["Exec"]);
    let types = list(&entry["MimeType"]);
    assert!(types.contains(&"application/octet-stream"), "{types:?}");
    assert!(types.contains(&"inode/directory"), "{types:?}");
    assert_eq!(entry["StartupWMClass"], "s3share", "the window's app id");
    assert_eq!(entry["Terminal"], "false");
    // desktop-file-utils' own reading, where it is installed (.ci/run installs it).
    if let Ok(out) = std::process::Command::new("desktop-file-validate")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/s3share.desktop"))
        .output()
    {
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn dolphin_offers_share_with_s3share_for_files_and_folders() {
    let groups = desktop_groups(&asset("file-managers/s3share-servicemenu.desktop"));
    let entry = &groups["Desktop Entry"];
    assert_eq!(entry["Type"], "Service");
    let types = list(&entry["MimeType"]);
    assert!(types.contains(&"application/octet-stream") && types.contains(&"inode/directory"));
    for action in list(&entry["Actions"]) {
        let group = &groups[&format!("Desktop Action {action}")];
        assert_eq!(group["Name"], "Share with s3share");
        assert_takes_files(&group["Exec"]);
    }
}

#[test]
fn nautilus_and_thunar_run_s3share_with_the_selection() {
    let script = asset("file-managers/Share with s3share");
    assert!(script.starts_with("#!/bin/sh\n"));
    assert_eq!(
        script
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["exec s3share -- \"$@\""]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/file-managers/Share with s3share");
        let mode = std::fs::metadata(path)
            .expect("script")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "Nautilus runs only executable scripts");
    }
    let uca = asset("file-managers/thunar-uca.xml");
    let action = uca
        .split_once("<action>")
        .and_then(|(_, rest)| rest.split_once("</action>"))
        .map(|(action, _)| action)
        .expect("one <action>");
    let tag = |name: &str| {
        action
            .split_once(&format!("<{name}>"))
            .and_then(|(_, rest)| rest.split_once(&format!("</{name}>")))
            .map(|(v, _)| v.trim().to_owned())
    };
    assert_eq!(tag("name").as_deref(), Some("Share with s3share"));
    assert_takes_files(&tag("command").expect("command"));
    assert_eq!(tag("patterns").as_deref(), Some("*"));
    for kind in [
        "<directories/>",
        "<other-files/>",
        "<text-files/>",
        "<image-files/>",
    ] {
        assert!(action.contains(kind), "{kind}");
    }
}
