//! The app's tests on the shared test kit, plus running the real `s3share` binary: against a
//! test store (`cli`), and as `s3share local` in a child process (`child_store`).
#![allow(
    dead_code,
    clippy::allow_attributes,
    reason = "each test file uses a part of this"
)]

use std::path::Path;
use std::process::Output;

pub use s3share_testkit::*;

/// The real binary under test.
pub const EXE: &str = env!("CARGO_BIN_EXE_s3share");

/// The real binary run against a test store.
#[allow(async_fn_in_trait, reason = "test helpers, awaited in place")]
pub trait Cli {
    /// Run `s3share args…` with only the store's `AWS_*` variables, plus `extra`.
    async fn cli(&self, args: &[&str], extra: &[(&str, &str)]) -> Output;
    /// Run `program args…` (a wrapper such as `script` that runs s3share itself) so too.
    async fn cli_via(&self, program: &str, args: &[&str]) -> Output;
}

impl Cli for TestServer {
    async fn cli(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = std::process::Command::new(EXE);
        cmd.args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        self.run(cmd).await
    }

    async fn cli_via(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(program);
        cmd.args(args);
        self.run(cmd).await
    }
}

/// `s3share local` serving `data_dir` on a free port, in a child process, its HOME `home`
/// (its credentials live there), with `env` added, through `wrapper` when given.
pub fn child_store(
    home: &Path,
    data_dir: &Path,
    env: &[(&str, &str)],
    wrapper: Option<&[&str]>,
) -> ChildServer {
    let mut cmd = match wrapper {
        Some(w) => {
            let mut c = std::process::Command::new(w[0]);
            c.args(&w[1..]).arg(EXE);
            c
        }
        None => std::process::Command::new(EXE),
    };
    cmd.args(["local", "--port", "0", "--dir"]).arg(data_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    ChildServer::start(cmd, home)
}
