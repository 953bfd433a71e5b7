//! `s3share-window.exe`: the same program as `s3share.exe`, built for the Windows GUI subsystem so
//! that opening it from Explorer, the Start menu or "Open with" flashes no console window. Its
//! output goes nowhere, so scripts use `s3share.exe`. Built only with the `window-exe` feature
//! (other platforms need no second executable).
#![cfg_attr(windows, windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    s3share::main()
}
