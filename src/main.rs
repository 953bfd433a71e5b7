use clap::Parser as _;

fn main() -> std::process::ExitCode {
    s3share::engine::base::wording::init_local_offset();
    s3share::logging::init();
    let cli = s3share::cli::Cli::parse();
    let result = if cli.command.is_none() {
        s3share::gui::run(cli.global.settings(), cli.files)
    } else {
        s3share::cli::run(cli)
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", s3share::cli::error_line(&err));
            std::process::ExitCode::from(u8::try_from(s3share::cli::exit_code(&err)).unwrap_or(1))
        }
    }
}
