//! Embeds the icon and version in the Windows executables (`assets/windows/s3share.rc`, compiled
//! with mingw's windres). Other targets need nothing, and a Windows build without windres still
//! builds: it warns and the .exe has the default icon.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=assets/windows/s3share.rc");
    println!("cargo:rerun-if-changed=assets/icon.ico");
    println!("cargo:rerun-if-env-changed=WINDRES");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let target = std::env::var("TARGET").unwrap_or_default();
    let windres = std::env::var("WINDRES").unwrap_or_else(|_| {
        if target.ends_with("-gnu") || target.ends_with("-gnullvm") {
            format!(
                "{}-w64-mingw32-windres",
                target.split('-').next().unwrap_or("x86_64")
            )
        } else {
            "windres".to_owned()
        }
    });
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commas = version_commas(&version);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("s3share-resources.o");
    let status = Command::new(&windres)
        .arg(format!("-DS3SHARE_VERSION=\\\"{version}\\\""))
        .arg(format!("-DS3SHARE_VERSION_COMMAS={commas}"))
        .args([
            "--input",
            "assets/windows/s3share.rc",
            "--output-format=coff",
            "--output",
        ])
        .arg(&out)
        .status();
    match status {
        Ok(status) if status.success() => {
            println!("cargo:rustc-link-arg-bins={}", out.display());
        }
        Ok(status) => {
            println!("cargo:warning={windres} failed ({status}): the .exe keeps the default icon");
        }
        Err(err) => {
            println!("cargo:warning={windres} not found ({err}): the .exe keeps the default icon");
        }
    }
}

/// "0.4.1" → "0,4,1,0", the form VERSIONINFO takes.
fn version_commas(version: &str) -> String {
    let mut parts: Vec<&str> = version.split(['.', '-', '+']).take(3).collect();
    parts.resize(3, "0");
    format!("{},0", parts.join(","))
}
