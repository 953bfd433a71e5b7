//! Keys become local paths, safely: whatever a key holds (`..`, `.`, a leading `/`, `//`,
//! backslashes, NUL, control characters, over-long segments, names Windows reserves), the path stays inside the folder
//! downloaded into, and two keys that would land on the same path (object `a` and object `a/b`)
//! are both kept, one under a numbered name.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::transfer::names::numbered_name;

/// The longest file name most file systems take, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// Characters Windows does not allow in a name (a drive's `:` among them); elsewhere all fit.
fn not_in_names(c: char) -> bool {
    cfg!(windows) && matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|')
}

/// The device names Windows reserves in every folder, with any extension (`CON`, `nul.txt`).
const WINDOWS_RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// `name` as Windows can hold it: a reserved device name gets its first letter written as
/// `%XX` (`CON.txt` → `%43ON.txt`), and trailing dots and spaces (which Windows drops) are
/// written as `%2E` / `%20`.
fn windows_name(mut name: String) -> String {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches(' ');
    if WINDOWS_RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(stem))
    {
        let first = name.remove(0);
        name.insert_str(0, &format!("%{:02X}", u32::from(first)));
    }
    let kept = name.trim_end_matches(['.', ' ']).len();
    let tail: String = name[kept..]
        .chars()
        .map(|c| if c == '.' { "%2E" } else { "%20" })
        .collect();
    name.truncate(kept);
    name + &tail
}

/// One key segment as a file or folder name: `.`/`..` and the characters a name cannot hold
/// (or that a terminal would act on) written as `%XX`; an over-long name cut and marked with
/// a hash of the whole, so distinct segments stay distinct.
pub(crate) fn segment_name(segment: &str) -> String {
    let mut out = match segment {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => {
            let mut s = String::with_capacity(segment.len());
            for c in segment.chars() {
                if c == '\\' || c == '\0' || c.is_control() || not_in_names(c) {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(s, "%{b:02X}");
                    }
                } else {
                    s.push(c);
                }
            }
            s
        }
    };
    if cfg!(windows) {
        out = windows_name(out);
    }
    if out.len() > MAX_NAME_BYTES {
        let hash = hex::encode(&sha2::Sha256::digest(segment.as_bytes())[..4]);
        let mut cut = MAX_NAME_BYTES - hash.len() - 1;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('~');
        out.push_str(&hash);
    }
    out
}

/// The local path (relative, inside the download folder) for `key` under `base`: the part of
/// the key after `base`, one folder per `/`-separated segment, empty segments dropped. `None`
/// when nothing is left (a folder marker such as `photos/`).
pub fn key_to_relative_path(key: &str, base: &str) -> Option<PathBuf> {
    let rest = key.strip_prefix(base).unwrap_or(key);
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(segment_name)
        .collect();
    if segments.is_empty() || rest.ends_with('/') {
        return None;
    }
    Some(segments.iter().collect())
}

/// Where each of `keys` (in listing order) goes under `dir`, with clashes resolved: a path
/// that another key needs as a folder, or that an earlier key took, gets a numbered name
/// (`a (1)`). Returns (key, path, renamed) for each key that names a file.
pub fn plan_paths<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    base: &str,
    dir: &Path,
) -> Vec<(String, PathBuf, bool)> {
    let mapped: Vec<(String, PathBuf)> = keys
        .into_iter()
        .filter_map(|k| key_to_relative_path(k, base).map(|p| (k.to_owned(), p)))
        .collect();
    // Every folder some file needs.
    let mut folders: HashSet<PathBuf> = HashSet::new();
    for (_, p) in &mapped {
        let mut parent = p.parent();
        while let Some(d) = parent.filter(|d| !d.as_os_str().is_empty()) {
            folders.insert(d.to_path_buf());
            parent = d.parent();
        }
    }
    let mut taken: HashSet<PathBuf> = HashSet::new();
    let mut out = Vec::with_capacity(mapped.len());
    for (key, rel) in mapped {
        let free = |p: &PathBuf| !folders.contains(p) && !taken.contains(p);
        let (rel, renamed) = if free(&rel) {
            (rel, false)
        } else {
            let name = rel
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Each key takes at most one name, so a free number is among the first len+1.
            let alternative = (1..=u32::try_from(taken.len() + folders.len() + 1)
                .unwrap_or(u32::MAX))
                .map(|n| rel.with_file_name(numbered_name(&name, n)))
                .find(|p| free(p))
                .unwrap_or_else(|| rel.clone());
            (alternative, true)
        };
        taken.insert(rel.clone());
        out.push((key, dir.join(rel), renamed));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_windows_reserves_are_written_so_it_keeps_them() {
        for (name, safe) in [
            ("CON", "%43ON"),
            ("con.txt", "%63on.txt"),
            ("Com1.tar.gz", "%43om1.tar.gz"),
            ("LPT9", "%4CPT9"),
            ("nul ", "%6Eul%20"),
            ("notes.", "notes%2E"),
            ("a. .", "a%2E%20%2E"),
            ("CONSOLE.txt", "CONSOLE.txt"),
            ("COM10", "COM10"),
            ("report.pdf", "report.pdf"),
        ] {
            assert_eq!(windows_name(name.to_owned()), safe, "{name}");
        }
    }

    #[test]
    fn awkward_keys_stay_inside_and_clashes_are_kept() {
        let dir = Path::new("/dl");
        let keys = [
            "p/a",
            "p/a/b",
            "p/../../etc/passwd",
            "p//lead",
            "p/./x",
            "p/back\\slash",
            "p/nul\0ctl\x1b",
            "p/folder/",
            "p/a b+%#?é",
        ];
        let plan = plan_paths(keys, "p/", dir);
        let paths: Vec<String> = plan
            .iter()
            .map(|(_, p, _)| p.strip_prefix(dir).expect("inside").display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "a (1)",
                "a/b",
                "%2E%2E/%2E%2E/etc/passwd",
                "lead",
                "%2E/x",
                "back%5Cslash",
                "nul%00ctl%1B",
                "a b+%#?é"
            ]
        );
        assert_eq!(plan.iter().filter(|(_, _, renamed)| *renamed).count(), 1);
        let long = "x".repeat(300);
        let name = segment_name(&long);
        assert!(name.len() <= 255 && name != segment_name(&"x".repeat(301)));
    }

    proptest! {
        #[test]
        fn no_key_leaves_the_folder_and_no_two_share_a_path(
            keys in proptest::collection::btree_set("[a./\\\\\\x00-\\x1f%é]{0,12}", 0..30)
        ) {
            let dir = Path::new("/dl");
            let plan = plan_paths(keys.iter().map(String::as_str), "", dir);
            let mut seen = HashSet::new();
            for (_, path, _) in &plan {
                let rel = path.strip_prefix(dir).expect("inside the folder");
                for c in rel.components() {
                    prop_assert!(matches!(c, std::path::Component::Normal(_)), "{}", path.display());
                }
                prop_assert!(seen.insert(path.clone()), "two keys on {}", path.display());
            }
            // No file's path is a folder another file needs.
            for (_, path, _) in &plan {
                for (_, other, _) in &plan {
                    prop_assert!(!other.starts_with(path) || other == path);
                }
            }
        }
    }
}
