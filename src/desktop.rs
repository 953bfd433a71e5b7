//! What s3share asks of the desktop it runs on: which window system to open the window on, and
//! the browser a link is opened in. Both fronts may use it; it knows nothing of either.

use std::ffi::{OsStr, OsString};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::engine::base::error::{Error, ErrorKind, Result};

/// The variable that chooses the window system: `x11`, `wayland`, or `auto` (unset).
pub const BACKEND_VAR: &str = "S3SHARE_BACKEND";

/// The window system the window opens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSystem {
    /// Whatever winit picks (Wayland when `WAYLAND_DISPLAY` is set, else X11).
    Default,
    /// X11 — on a Wayland desktop, through XWayland.
    X11,
    /// Native Wayland: no files can be dropped on the window there (winit 0.30 has no Wayland
    /// drag and drop).
    Wayland,
}

/// Which displays the environment names: a Wayland compositor (`WAYLAND_DISPLAY`) and an X
/// server (`DISPLAY`, XWayland on a Wayland desktop). An empty variable names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Displays {
    pub wayland: bool,
    pub x11: bool,
}

impl Displays {
    /// From the environment `var` reads.
    pub fn from_env(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        Self {
            wayland: set("WAYLAND_DISPLAY"),
            x11: set("DISPLAY"),
        }
    }
}

/// Which window system to open on, from the environment `var` reads. On a Wayland desktop
/// that also runs XWayland (`DISPLAY` set, as GNOME and KDE sessions do), X11: the window must
/// take dropped files, and winit has no Wayland drag and drop. `S3SHARE_BACKEND=wayland`
/// keeps the native window for those who prefer it without drops. The second value is a
/// warning for a value of `S3SHARE_BACKEND` not understood.
pub fn window_system(var: impl Fn(&str) -> Option<OsString>) -> (WindowSystem, Option<String>) {
    let displays = Displays::from_env(&var);
    let auto = if displays.wayland && displays.x11 {
        WindowSystem::X11
    } else {
        WindowSystem::Default
    };
    let Some(asked) = var(BACKEND_VAR) else {
        return (auto, None);
    };
    match asked.to_string_lossy().trim().to_ascii_lowercase().as_str() {
        "x11" => (WindowSystem::X11, None),
        "wayland" => (WindowSystem::Wayland, None),
        "" | "auto" => (auto, None),
        other => (
            auto,
            Some(format!(
                "{BACKEND_VAR}={other} is not understood (x11, wayland or auto); choosing by itself"
            )),
        ),
    }
}

/// How long an opener is watched for an early failure (an opener that finds no browser exits
/// at once; one that runs the browser itself may not exit at all).
const OPENER_WATCH: Duration = Duration::from_secs(3);

/// Variables a browser never gets: the AWS keys and session tokens of this environment (a
/// browser lives for days, its environment readable by the user's other programs), and
/// anything that names itself a secret, token or password.
fn secret_var(name: &OsStr) -> bool {
    let name = name.to_string_lossy().to_ascii_uppercase();
    name.starts_with("AWS_")
        || ["SECRET", "TOKEN", "PASSWORD"]
            .iter()
            .any(|word| name.contains(word))
}

/// The programs that open `url`, in the order tried: each of `$BROWSER` (a `:`-separated
/// list; `%s` stands for the link), then the platform's opener.
fn openers(url: &str, browser: Option<&OsStr>) -> Vec<(OsString, Vec<OsString>)> {
    let mut out = Vec::new();
    if let Some(list) = browser.and_then(OsStr::to_str) {
        for entry in list.split(':').map(str::trim).filter(|e| !e.is_empty()) {
            let mut words = entry.split_whitespace();
            let Some(program) = words.next() else {
                continue;
            };
            let mut args: Vec<OsString> = words.map(|w| w.replace("%s", url).into()).collect();
            if !entry.contains("%s") {
                args.push(url.into());
            }
            out.push((program.into(), args));
        }
    }
    let platform: (&str, &[&str]) = if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        // `start` would read `&` in the link as a command separator.
        ("rundll32", &["url.dll,FileProtocolHandler"])
    } else {
        ("xdg-open", &[])
    };
    let mut args: Vec<OsString> = platform.1.iter().map(OsString::from).collect();
    args.push(url.into());
    out.push((platform.0.into(), args));
    out
}

/// Open `url` in the desktop's browser: `$BROWSER` when set, else the platform's opener
/// (xdg-open, open, the Windows URL handler). `env` is the environment to start it in (the
/// process's own, `std::env::vars_os()`); the opener gets it without its secrets.
pub fn open_in_browser(url: &str, env: &[(OsString, OsString)]) -> Result<()> {
    let browser = env
        .iter()
        .find(|(n, _)| n == "BROWSER")
        .map(|(_, v)| v.as_os_str());
    run_openers(openers(url, browser), env)
}

/// Try each opener in turn. One that is missing or exits with an error at once is reported
/// and the next one tried; one still running after a moment is taken to have opened it.
fn run_openers(list: Vec<(OsString, Vec<OsString>)>, env: &[(OsString, OsString)]) -> Result<()> {
    let mut tried = Vec::new();
    for (program, args) in list {
        let mut cmd = Command::new(&program);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env_clear()
            .envs(env.iter().filter(|(name, _)| !secret_var(name)).cloned());
        let name = program.to_string_lossy().into_owned();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tried.push(format!("{name} is not installed"));
                continue;
            }
            Err(e) => {
                tried.push(format!("{name} could not start ({e})"));
                continue;
            }
        };
        let deadline = Instant::now() + OPENER_WATCH;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    tried.push(format!("{name} failed ({status})"));
                    break;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(None) | Err(_) => {
                    // Still running (a browser started in the foreground): it has the link.
                    // Reap it when it ends, away from the caller.
                    std::thread::spawn(move || child.wait());
                    return Ok(());
                }
            }
        }
    }
    Err(Error::new(
        ErrorKind::NotFound,
        "No browser could be opened: copy the link and paste it into one",
    )
    .with_detail(format!(
        "{}; set BROWSER to the browser's command, or install xdg-utils",
        tried.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn a_wayland_desktop_with_xwayland_opens_on_x11_unless_asked() {
        let both = [("WAYLAND_DISPLAY", "wayland-0"), ("DISPLAY", ":0")];
        assert_eq!(window_system(env(&both)).0, WindowSystem::X11);
        assert_eq!(
            window_system(env(&[("WAYLAND_DISPLAY", "wayland-0")])).0,
            WindowSystem::Default,
            "Wayland alone: the only window there is"
        );
        assert_eq!(
            window_system(env(&[("DISPLAY", ":0")])).0,
            WindowSystem::Default
        );
        assert_eq!(
            window_system(env(&[("WAYLAND_DISPLAY", ""), ("DISPLAY", ":0")])).0,
            WindowSystem::Default
        );
        let native = [
            ("WAYLAND_DISPLAY", "wayland-0"),
            ("DISPLAY", ":0"),
            (BACKEND_VAR, "Wayland"),
        ];
        assert_eq!(window_system(env(&native)), (WindowSystem::Wayland, None));
        let x11 = [("WAYLAND_DISPLAY", "wayland-0"), (BACKEND_VAR, "x11")];
        assert_eq!(window_system(env(&x11)), (WindowSystem::X11, None));
        let odd = [
            ("WAYLAND_DISPLAY", "wayland-0"),
            ("DISPLAY", ":0"),
            (BACKEND_VAR, "mir"),
        ];
        let (system, warning) = window_system(env(&odd));
        assert_eq!(system, WindowSystem::X11);
        assert!(warning.is_some_and(|w| w.contains("mir")));
    }

    #[test]
    fn browser_entries_take_the_link_where_they_say() {
        let url = "https://h/k?X-Amz-Signature=abc&x=1";
        let list = openers(url, Some(OsStr::new("firefox --new-tab %s: chromium ")));
        assert_eq!(
            list[0],
            (
                "firefox".into(),
                vec!["--new-tab".into(), OsString::from(url)]
            )
        );
        assert_eq!(list[1], ("chromium".into(), vec![OsString::from(url)]));
        assert_eq!(list.len(), 3, "the platform's opener last");
        assert_eq!(openers(url, None).len(), 1);
    }

    #[test]
    fn secrets_stay_out_of_the_browser() {
        for name in [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "aws_access_key_id",
            "GITHUB_TOKEN",
            "MY_PASSWORD",
        ] {
            assert!(secret_var(OsStr::new(name)), "{name}");
        }
        for name in [
            "PATH",
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "DBUS_SESSION_BUS_ADDRESS",
        ] {
            assert!(!secret_var(OsStr::new(name)), "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_browser_gets_the_link_and_none_of_the_secrets() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let seen = dir.path().join("seen");
        let script = dir.path().join("browser");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{0}.tmp'\nenv >> '{0}.tmp'\nmv '{0}.tmp' '{0}'\n",
                seen.display()
            ),
        )
        .expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).expect("mode");
        let url = "http://127.0.0.1:1/b/k?X-Amz-Signature=00ff";
        let env: Vec<(OsString, OsString)> = [
            ("BROWSER", script.to_string_lossy().as_ref()),
            ("PATH", "/usr/bin:/bin"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            ("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLE"),
            ("LANG", "C.UTF-8"),
        ]
        .into_iter()
        .map(|(n, v)| (n.into(), v.into()))
        .collect();
        open_in_browser(url, &env).expect("opened");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !seen.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let text = std::fs::read_to_string(&seen).expect("the browser ran");
        assert_eq!(text.lines().next(), Some(url));
        assert!(text.lines().any(|l| l == "LANG=C.UTF-8"), "{text}");
        assert!(!text.contains("EXAMPLEKEY") && !text.contains("AWS_SESSION_TOKEN"));
    }

    #[test]
    fn no_browser_is_an_error_that_says_what_to_do() {
        let url = "http://127.0.0.1:1/x?X-Amz-Signature=00ff";
        let list = vec![
            ("/nonexistent/browser-of-nobody".into(), vec![url.into()]),
            ("false".into(), vec![url.into()]),
        ];
        let env = [("PATH".into(), "/usr/bin:/bin".into())];
        let e = run_openers(list, &env).expect_err("nothing opened it");
        assert!(e.message().contains("No browser"), "{e}");
        let detail = e.detail().expect("what was tried");
        assert!(
            detail.contains("browser-of-nobody is not installed"),
            "{detail}"
        );
        assert!(detail.contains("false failed"), "{detail}");
        assert!(
            !detail.contains("Signature"),
            "the link stays out of the error"
        );
    }
}
