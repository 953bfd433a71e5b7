//! `s3share`: the command line, and the window when run without a command. On Windows this is
//! the console executable (scripts get its output and exit status); `s3share-window.exe` is the
//! same program for Explorer, with no console.

fn main() -> std::process::ExitCode {
    s3share::main()
}
