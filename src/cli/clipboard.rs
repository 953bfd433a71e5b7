//! `share --copy`: a small background copy of s3share keeps the link on the clipboard until
//! another program takes it or the link expires. X11 keeps no clipboard of its own, and neither
//! does Wayland: on Wayland the keeper holds it through the compositor's data-control protocol
//! (wlroots, KDE), else through XWayland (`DISPLAY`, GNOME), which passes it on to Wayland.
//! Windows and macOS keep the clipboard themselves after a program exits: no keeper there.

use std::time::{Duration, SystemTime};

use anyhow::Context as _;

/// Put `url` on the clipboard so that it stays pasteable after s3share exits, until the link
/// expires at `until` or another program takes the clipboard.
pub fn copy_to_clipboard(url: &str, until: SystemTime) -> anyhow::Result<()> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        keeper::copy_through_keeper(url, until)
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        let _ = until;
        arboard::Clipboard::new()
            .and_then(|mut c| c.set_text(url))
            .context("the clipboard refused the link")
    }
}

/// The keeper of X11 and Wayland desktops, which keep no clipboard of their own.
#[cfg(all(unix, not(target_os = "macos")))]
mod keeper {
    use std::io::Write as _;
    use std::time::{Duration, Instant, SystemTime};

    use anyhow::Context as _;

    use crate::desktop::Displays;

    /// What the clipboard keeper inherits: the display (X11 or Wayland) and how to authenticate to
    /// it, nothing else.
    const CLIPBOARD_KEEPER_ENV: [&str; 5] = [
        "DISPLAY",
        "XAUTHORITY",
        "WAYLAND_DISPLAY",
        "XDG_RUNTIME_DIR",
        "HOME",
    ];

    /// Hand the link to a background copy of ourselves that owns the X11 clipboard until another
    /// program takes it or the link expires (X11 keeps no clipboard of its own), then check that
    /// a paste would see it. The link goes through a pipe, never the command line.
    pub(super) fn copy_through_keeper(url: &str, until: SystemTime) -> anyhow::Result<()> {
        use std::process::{Command as Process, Stdio};
        let exe = std::env::current_exe().context("cannot find our own program")?;
        let until_secs = until
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut cmd = Process::new(exe);
        // It lives as long as the link: it gets only what reaching the display needs, never the
        // AWS secrets of this environment (readable in /proc for days otherwise).
        cmd.env_clear();
        for var in CLIPBOARD_KEEPER_ENV {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        cmd.arg("__hold-clipboard")
            .arg(until_secs.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            // Its own process group: a Ctrl-C in this terminal later does not take the link away.
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().context("cannot start the clipboard keeper")?;
        child
            .stdin
            .take()
            .context("no pipe to the clipboard keeper")?
            .write_all(url.as_bytes())?;
        // Dropping the pipe closes it: the keeper has the whole link.
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "the clipboard keeper stopped ({status}): {}",
                    no_clipboard_hint(Displays::from_env(|name| std::env::var_os(name)))
                );
            }
            if arboard::Clipboard::new()
                .and_then(|mut c| c.get_text())
                .is_ok_and(|t| t == url)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("the clipboard did not take the link in time")
    }

    /// What to do when no clipboard could be held, for the displays there are.
    pub(super) fn no_clipboard_hint(displays: Displays) -> &'static str {
        match (displays.wayland, displays.x11) {
            (true, false) => {
                "this Wayland compositor offers no clipboard to programs without a window \
             (data-control) and there is no XWayland (DISPLAY)"
            }
            (false, false) => "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)",
            _ => "the display refused the clipboard",
        }
    }
}

/// The keeper: own the clipboard with the link read from stdin until another program takes it
/// or `until_unix` passes, whichever is first.
pub fn hold_clipboard(until_unix: u64) -> anyhow::Result<()> {
    use std::io::Read as _;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let left = Duration::from_secs(until_unix).saturating_sub(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
    );
    let mut clipboard = arboard::Clipboard::new().context("no clipboard (no display?)")?;
    #[cfg(target_os = "linux")]
    {
        use arboard::SetExtLinux as _;
        // Served in the foreground until another program takes it (on Wayland, arboard's own
        // deadline would fork a server that outlives the link); the link's end ends us.
        std::thread::spawn(move || {
            std::thread::sleep(left);
            std::process::exit(0);
        });
        clipboard.set().wait().text(text)?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Elsewhere the system keeps the clipboard itself.
        let _ = left;
        clipboard.set_text(text)?;
    }
    Ok(())
}

#[cfg(all(test, unix, not(target_os = "macos")))]
mod tests {
    use super::keeper::*;
    use crate::desktop::Displays;

    #[test]
    fn the_hint_names_what_is_missing() {
        let displays = |wayland, x11| Displays { wayland, x11 };
        assert!(no_clipboard_hint(displays(true, false)).contains("XWayland"));
        assert!(no_clipboard_hint(displays(false, false)).contains("no display"));
        assert!(no_clipboard_hint(displays(false, true)).contains("refused"));
    }
}
