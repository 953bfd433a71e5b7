//! Dropped or picked paths expanded into files to upload: a file keeps its name, a folder its
//! name and layout. Blocking (folders are walked): run it off the UI thread.

use crate::base::error::Error;

/// One local file to upload and the key it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: std::path::PathBuf,
    pub key: String,
    pub size: u64,
}

/// Expand dropped or picked paths into files to upload under `prefix`: a file keeps its name; a
/// folder keeps its name and inner layout (`photos/2024/a.jpg`). Symlinked folders are not
/// followed (no loops); unreadable entries are reported, the rest still planned. Blocking: run it
/// off the UI thread.
pub fn plan_uploads(paths: &[std::path::PathBuf], prefix: &str) -> (Vec<PlannedFile>, Vec<Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.is_empty() {
            errors.push(Error::invalid(format!(
                "Cannot upload this path (it has no file name): {}",
                path.display()
            )));
            continue;
        }
        walk(path, &format!("{prefix}{name}"), &mut files, &mut errors);
    }
    (files, errors)
}

fn walk(path: &std::path::Path, key: &str, files: &mut Vec<PlannedFile>, errors: &mut Vec<Error>) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push(Error::local_io("read", path, &e));
            return;
        }
    };
    if meta.is_dir() {
        let entries = match std::fs::read_dir(path) {
            Ok(rd) => rd,
            Err(e) => {
                errors.push(Error::local_io("read", path, &e));
                return;
            }
        };
        let mut children: Vec<_> = entries.filter_map(Result::ok).collect();
        children.sort_by_key(std::fs::DirEntry::file_name);
        for child in children {
            let is_link = child.file_type().is_ok_and(|t| t.is_symlink());
            let child_path = child.path();
            if is_link && child_path.is_dir() {
                continue;
            }
            let child_key = format!("{key}/{}", child.file_name().to_string_lossy());
            walk(&child_path, &child_key, files, errors);
        }
    } else {
        // Files, and anything else the upload itself will judge (devices are refused there,
        // with the reason, on the transfer's own row).
        files.push(PlannedFile {
            path: path.to_owned(),
            key: key.to_owned(),
            size: meta.len(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_keep_their_layout_under_the_prefix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("photos");
        std::fs::create_dir_all(root.join("2024")).expect("mkdir");
        std::fs::write(root.join("2024/b.jpg"), b"bb").expect("write");
        std::fs::write(root.join("a.jpg"), b"a").expect("write");
        let single = dir.path().join("note one.txt");
        std::fs::write(&single, b"n").expect("write");
        let missing = dir.path().join("gone.txt");
        let (files, errors) = plan_uploads(&[root, single, missing], "in/");
        let keys: Vec<_> = files.iter().map(|f| (f.key.as_str(), f.size)).collect();
        assert_eq!(
            keys,
            vec![
                ("in/photos/2024/b.jpg", 2),
                ("in/photos/a.jpg", 1),
                ("in/note one.txt", 1)
            ]
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message().contains("gone.txt"), "{}", errors[0]);
    }
}
