//! s3share: share files out of private S3 buckets with time-limited presigned links.
//!
//! The app on top of the engine (`s3share-engine`, which knows S3 and nothing of any UI) and the
//! embedded store (`s3share-store`, an S3 server that knows nothing of the client): `cli` and
//! `gui` are two fronts on `engine::ops`, and `local` is the one place that starts the store or
//! finds the one already serving; `desktop` is what both ask of the desktop (window system,
//! browser).

pub mod cli;
pub mod desktop;
pub mod gui;
pub mod local;
pub mod logging;

/// The engine, under the name the fronts use.
pub use s3share_engine as engine;

/// What both executables run: no command (or only files) opens the window, a command runs it.
/// Errors end as one line on stderr and the exit status of their kind.
#[must_use]
pub fn main() -> std::process::ExitCode {
    use clap::Parser as _;
    engine::base::wording::init_local_offset();
    logging::init();
    let cli = cli::Cli::parse();
    let result = if cli.command.is_none() {
        gui::run(cli.global.settings(), cli.files)
    } else {
        cli::run(cli)
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", cli::error_line(&err));
            std::process::ExitCode::from(u8::try_from(cli::exit_code(&err)).unwrap_or(1))
        }
    }
}
