//! Downloads into folders other people can write to, from buckets other people write to: what
//! a co-writer plants (keys named like s3share's own files, symbolic links) never turns a
//! download against its user, and exFAT, FAT and FUSE mounts take downloads as well.

mod support;

use support::Cli as _;

use std::path::Path;

use support::{TestServer, pattern, put, sha256, stderr};

const MIB: usize = 1024 * 1024;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `download s3://shared/PREFIX DIR` in ranges above 8 MiB, with `extra` flags.
async fn download(
    store: &TestServer,
    prefix: &str,
    dir: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "download",
        prefix,
        dir.to_str().expect("utf-8"),
        "--multipart-above",
        "8MiB",
        "--part-size",
        "5MiB",
    ];
    args.extend_from_slice(extra);
    store.cli(&args, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_named_like_partial_files_are_just_keys() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let big = pattern(9 * MIB, 1);
    put(&conn, "in/big.bin", &big).await;
    let dest = store.scratch().join("dl");
    std::fs::create_dir_all(&dest).expect("dest");
    // The names earlier versions of s3share computed for big.bin's partial file and state, from
    // the key and the path alone: planted as keys beside it.
    let target = dest.join("big.bin");
    let id = sha256(format!("s3://shared/in/big.bin\n{}", target.display()).as_bytes());
    let partial = format!(".s3share-partial-{}", &id[..24]);
    let planted = b"the attacker's bytes".to_vec();
    let forged = br#"{"etag":"x","size":20,"chunk":20,"done":[0]}"#.to_vec();
    put(&conn, &format!("in/{partial}"), &planted).await;
    put(&conn, &format!("in/{partial}.json"), &forged).await;

    let out = download(&store, "s3://shared/in/", &dest, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("downloaded 3 of 3"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        sha256(&read(&target)),
        sha256(&big),
        "big.bin is its own bytes"
    );
    assert_eq!(
        read(&dest.join(&partial)),
        planted,
        "a key is downloaded like any key"
    );
    assert_eq!(read(&dest.join(format!("{partial}.json"))), forged);
    let names: Vec<String> = std::fs::read_dir(&dest)
        .expect("dest")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "nothing of s3share's own is left: {names:?}"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_never_write_through_a_symbolic_link() {
    let store = TestServer::start().await;
    let conn = store.conn();
    put(&conn, "in/a/x", b"through the link?").await;
    put(&conn, "in/b", b"b").await;
    put(&conn, "in/c.txt", b"c").await;
    let dest = store.scratch().join("dl");
    let outside = store.scratch().join("elsewhere");
    std::fs::create_dir_all(&dest).expect("dest");
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::write(outside.join("victim"), b"precious").expect("victim");
    // A co-writer of the folder plants links: a folder one, and one where a file will go.
    std::os::unix::fs::symlink(&outside, dest.join("a")).expect("link a");
    std::os::unix::fs::symlink(outside.join("victim"), dest.join("c.txt")).expect("link c");

    let out = download(&store, "s3://shared/in/", &dest, &[]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("symbolic link") && err.contains("/dl/a"),
        "{err}"
    );
    assert!(
        err.contains("already exists") && err.contains("c.txt"),
        "{err}"
    );
    assert!(err.contains("2 of 3 downloads failed"), "{err}");
    assert_eq!(read(&dest.join("b")), b"b", "the others go on");
    assert!(!outside.join("x").exists(), "nothing lands outside");
    assert_eq!(read(&outside.join("victim")), b"precious");

    // Replacing replaces the link itself, never what it points at.
    let out = download(&store, "s3://shared/in/c.txt", &dest, &["--overwrite"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let meta = std::fs::symlink_metadata(dest.join("c.txt")).expect("meta");
    assert!(meta.file_type().is_file(), "a plain file now");
    assert_eq!(read(&dest.join("c.txt")), b"c");
    assert_eq!(read(&outside.join("victim")), b"precious");
}

/// An exFAT mount, unmounted (and its loop device freed) when dropped.
#[cfg(target_os = "linux")]
struct Unmount<'a>(&'a Path, String);
#[cfg(target_os = "linux")]
impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).status();
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.1])
            .status();
    }
}

/// exFAT (no hard links, and through FUSE no `RENAME_NOREPLACE` either) on an image through a
/// loop device: needs root, `losetup`, `mkfs.exfat` (exfatprogs) and `mount.exfat-fuse`
/// (exfat-fuse); skipped, saying so, where they are missing.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_work_on_exfat() {
    let have = |tool: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root
        || !have("losetup")
        || !have("mkfs.exfat")
        || !have("mount.exfat-fuse")
        || !Path::new("/dev/fuse").exists()
    {
        eprintln!(
            "SKIPPED downloads_work_on_exfat: needs root, /dev/fuse, losetup, mkfs.exfat (exfatprogs) and mount.exfat-fuse (exfat-fuse)"
        );
        return;
    }
    let store = TestServer::start().await;
    let conn = store.conn();
    let big = pattern(9 * MIB, 7);
    put(&conn, "in/big.bin", &big).await;
    put(&conn, "in/sub/small.txt", b"small").await;
    let image = store.scratch().join("stick.img");
    std::fs::File::create(&image)
        .and_then(|f| f.set_len(64 * MIB as u64))
        .expect("image");
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().expect("run");
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(std::process::Command::new("mkfs.exfat").arg(&image));
    let mnt = store.scratch().join("stick");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let loop_dev = std::process::Command::new("losetup")
        .args(["--find", "--show"])
        .arg(&image)
        .output()
        .expect("losetup");
    assert!(
        loop_dev.status.success(),
        "{}",
        String::from_utf8_lossy(&loop_dev.stderr)
    );
    let device = String::from_utf8_lossy(&loop_dev.stdout).trim().to_owned();
    let _mounted = Unmount(&mnt, device.clone());
    run(std::process::Command::new("mount.exfat-fuse")
        .arg(&device)
        .arg(&mnt));

    let out = download(&store, "s3://shared/in/", &mnt, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sha256(&read(&mnt.join("big.bin"))), sha256(&big));
    assert_eq!(read(&mnt.join("sub/small.txt")), b"small");
    let leftovers: Vec<String> = std::fs::read_dir(&mnt)
        .expect("mnt")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".s3share"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Again: nothing is replaced, and it says so plainly (not "Permission denied").
    let again = download(&store, "s3://shared/in/big.bin", &mnt, &[]).await;
    assert_eq!(again.status.code(), Some(5), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    // With --overwrite, it is.
    let replaced = download(&store, "s3://shared/in/big.bin", &mnt, &["--overwrite"]).await;
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(sha256(&read(&mnt.join("big.bin"))), sha256(&big));
}
