//! The AWS shared files (`~/.aws/config` and `~/.aws/credentials`): the profiles they name, and a
//! new profile appended the way `aws configure` writes one.
//!
//! Reading follows the AWS SDK's own rules, so that the list holds the profiles the SDK will load:
//! `[default]` and `[profile NAME]` in the config file, `[NAME]` in the credentials file, a name
//! made only of ASCII letters, digits and `_ - / . % @ : +`. Other sections (`[sso-session X]`,
//! `[services X]`, a config-file `[NAME]` without the `profile` prefix) are not profiles; indented
//! lines are sub-properties or continuations and never change the profile they sit in.
//!
//! Writing only ever appends: every byte already in the files stays as it was.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use s3share_core::Secret;
use s3share_core::fs::write_private;

use crate::base::error::{Error, ErrorKind, Result};

/// What the AWS profile files count as blanks (not every Unicode space).
const BLANKS: &[char] = &[' ', '\t'];
/// What starts a comment.
const COMMENT: &[char] = &['#', ';'];

/// The two AWS shared files.
#[derive(Debug, Clone)]
pub struct AwsFiles {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

/// A profile named in the AWS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileInfo {
    pub name: String,
    /// Uses IAM Identity Center (has `sso_session`, `sso_start_url` or `sso_account_id`).
    pub sso: bool,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// A profile to add.
#[derive(Debug, Clone)]
pub struct NewProfile {
    pub name: String,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Access key id and secret; written to the credentials file.
    pub keys: Option<(String, Secret)>,
}

impl AwsFiles {
    /// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` when set (non-empty; a leading `~` is the
    /// home folder, as the SDK reads it), else `~/.aws/config` and `~/.aws/credentials`. None when
    /// a home folder is needed and there is none.
    pub fn for_user() -> Option<Self> {
        let home = directories::BaseDirs::new().map(|d| d.home_dir().to_owned());
        let pick = |var: &str, file: &str| match std::env::var_os(var).filter(|v| !v.is_empty()) {
            Some(set) => expand_home(Path::new(&set), home.as_deref()),
            None => home.as_ref().map(|h| h.join(".aws").join(file)),
        };
        Some(Self {
            config: pick("AWS_CONFIG_FILE", "config")?,
            credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "credentials")?,
        })
    }

    /// Every profile named in either file, sorted by name, each once: `sso` when either file says
    /// so; `region` and `endpoint_url` from the config file. A missing file is an empty one.
    pub fn profiles(&self) -> Result<Vec<ProfileInfo>> {
        let config = read_existing(&self.config)?.unwrap_or_default();
        let credentials = read_existing(&self.credentials)?.unwrap_or_default();
        Ok(collect(&config, &credentials).into_values().collect())
    }

    /// True when either file names at least one profile (an unreadable file counts as none).
    pub fn any_profile(&self) -> bool {
        self.profiles().is_ok_and(|p| !p.is_empty())
    }

    /// Add `p` at the end of the files: `[profile NAME]` (`[default]`) in the config file with the
    /// `region` and `endpoint_url` that are set, `[NAME]` in the credentials file with the keys when
    /// there are keys. A file is left alone when it has nothing to receive (the config file is
    /// written anyway when there are no keys, so that the profile exists somewhere).
    ///
    /// Every byte already in the files stays; each is replaced atomically, mode 0600, through a
    /// symbolic link rather than over it; the folder is made if needed. When the second file cannot
    /// be written, the first is put back as it was. Refuses (`InvalidInput`) a name the SDK would
    /// not load, an empty key or a value with blanks or line breaks, and (`AlreadyExists`) a name
    /// either file already has. No error message ever holds the secret.
    pub fn add_profile(&self, p: &NewProfile) -> Result<()> {
        validate(p)?;
        let config_path = write_target(&self.config)?;
        let credentials_path = write_target(&self.credentials)?;
        let config_old = read_existing(&config_path)?;
        let credentials_old = read_existing(&credentials_path)?;
        let known = collect(
            config_old.as_deref().unwrap_or_default(),
            credentials_old.as_deref().unwrap_or_default(),
        );
        if known.contains_key(&p.name) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "A profile with this name is already in the AWS config or credentials file: {}",
                    p.name
                ),
            ));
        }

        let config_lines = if p.region.is_some() || p.endpoint_url.is_some() || p.keys.is_none() {
            config_section(p)
        } else {
            Vec::new()
        };
        let credentials_lines = match &p.keys {
            Some((id, secret)) => vec![
                format!("[{}]", p.name),
                format!("aws_access_key_id = {id}"),
                format!("aws_secret_access_key = {}", secret.expose()),
            ],
            None => Vec::new(),
        };

        let mut writes: Vec<Pending> = Vec::with_capacity(2);
        for (path, old, lines) in [
            (config_path, config_old, config_lines),
            (credentials_path, credentials_old, credentials_lines),
        ] {
            if lines.is_empty() {
                continue;
            }
            // Both variables may name one file: then both sections go into it, one write.
            if let Some(same) = writes.iter_mut().find(|w| w.path == path) {
                same.new = appended(&same.new, &lines);
            } else {
                let new = appended(old.as_deref().unwrap_or_default(), &lines);
                writes.push(Pending { path, old, new });
            }
        }
        write_all(&writes)
    }
}

impl ProfileInfo {
    fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            sso: false,
            region: None,
            endpoint_url: None,
        }
    }
}

/// A file about to be replaced: what it held (None: it did not exist) and what it will hold.
struct Pending {
    path: PathBuf,
    old: Option<Vec<u8>>,
    new: Vec<u8>,
}

/// Write every file, or put back those already written when one fails.
fn write_all(writes: &[Pending]) -> Result<()> {
    for (i, w) in writes.iter().enumerate() {
        if let Err(e) = write_private(&w.path, &w.new) {
            writes.iter().take(i).for_each(undo);
            return Err(Error::local_io("write", &w.path, &e));
        }
    }
    Ok(())
}

/// Best effort: the file as it was before this change.
fn undo(w: &Pending) {
    let undone = match &w.old {
        Some(old) => write_private(&w.path, old),
        None => fs::remove_file(&w.path),
    };
    if let Err(e) = undone {
        tracing::warn!(path = %w.path.display(), error = %e, "could not undo a half-added AWS profile");
    }
}

/// The lines of the config-file section for `p`.
fn config_section(p: &NewProfile) -> Vec<String> {
    let mut lines = vec![if p.name == "default" {
        "[default]".to_owned()
    } else {
        format!("[profile {}]", p.name)
    }];
    if let Some(region) = &p.region {
        lines.push(format!("region = {region}"));
    }
    if let Some(url) = &p.endpoint_url {
        lines.push(format!("endpoint_url = {url}"));
    }
    lines
}

/// Refuse what would not make a profile the SDK loads, or would break the file's lines.
fn validate(p: &NewProfile) -> Result<()> {
    if p.name.is_empty() {
        return Err(Error::invalid("The profile name is empty"));
    }
    if !is_identifier(&p.name) {
        return Err(Error::invalid(format!(
            "A profile name may only use letters, digits and _ - / . % @ : + (no spaces): {:?}",
            p.name
        )));
    }
    if let Some(region) = &p.region {
        check_value("region", region, true)?;
    }
    if let Some(url) = &p.endpoint_url {
        check_value("endpoint URL", url, true)?;
    }
    if let Some((id, secret)) = &p.keys {
        check_value("access key ID", id, true)?;
        check_value("secret access key", secret.expose(), false)?;
    }
    Ok(())
}

/// Refuse an empty value, or one with blanks or control characters (a line break would start a
/// line of its own in the file). The value is quoted in the message only when `shown`.
fn check_value(what: &str, value: &str, shown: bool) -> Result<()> {
    let problem = if value.is_empty() {
        "is empty"
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "may not contain spaces or line breaks"
    } else {
        return Ok(());
    };
    let message = if shown && !value.is_empty() {
        format!("The {what} {problem}: {value:?}")
    } else {
        format!("The {what} {problem}")
    };
    Err(Error::invalid(message))
}

/// A name the AWS SDK accepts for a profile (it skips sections named otherwise).
fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// The file's bytes; None when it does not exist.
fn read_existing(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::local_io("read", path, &e)),
    }
}

/// The file a write should replace: the link's target when `path` is a symbolic link, so that a
/// link into a dotfiles folder stays a link.
fn write_target(path: &Path) -> Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|e| Error::local_io("follow the link", path, &e))
        }
        _ => Ok(path.to_owned()),
    }
}

/// `path` with a leading `~` replaced by the home folder; None when that needs a home folder and
/// there is none.
fn expand_home(path: &Path, home: Option<&Path>) -> Option<PathBuf> {
    match path.strip_prefix("~") {
        Ok(rest) => home.map(|h| h.join(rest)),
        Err(_) => Some(path.to_owned()),
    }
}

/// `old` with `lines` appended as a new section, in the line endings `old` uses: first a line
/// break if `old` does not end with one, then a blank line unless `old` is empty or ends with one.
fn appended(old: &[u8], lines: &[String]) -> Vec<u8> {
    let eol: &[u8] = if old.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = Vec::with_capacity(old.len() + 256);
    out.extend_from_slice(old);
    if !out.is_empty() {
        if !out.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
        if !ends_with_blank_line(&out) {
            out.extend_from_slice(eol);
        }
    }
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(eol);
    }
    out
}

/// Whether `bytes` (ending with a line break) ends with an empty line.
fn ends_with_blank_line(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_suffix(b"\n") else {
        return false;
    };
    let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
    rest.is_empty() || rest.ends_with(b"\n")
}

/// The profiles both files name, by name.
fn collect(config: &[u8], credentials: &[u8]) -> BTreeMap<String, ProfileInfo> {
    let mut out = BTreeMap::new();
    parse_into(&mut out, config, true);
    parse_into(&mut out, credentials, false);
    out
}

/// Add the profiles `bytes` names to `out`; `in_config` tells the config file from the
/// credentials file. Lines that make no sense are skipped, as the SDK would fail or skip them.
fn parse_into(out: &mut BTreeMap<String, ProfileInfo>, bytes: &[u8], in_config: bool) {
    let lossy = String::from_utf8_lossy(bytes);
    let text: &str = &lossy;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('[') {
            current = profile_of_header(line, in_config);
            if let Some(name) = &current {
                out.entry(name.clone())
                    .or_insert_with(|| ProfileInfo::named(name));
            }
            continue;
        }
        // Indented lines are sub-properties (`s3 =` then `  endpoint_url = ...`) or
        // continuations: they never set the profile's own keys.
        if line.starts_with(BLANKS) || line.starts_with(COMMENT) {
            continue;
        }
        let (Some(name), Some((key, value))) = (&current, line.split_once('=')) else {
            continue;
        };
        let Some(info) = out.get_mut(name) else {
            continue;
        };
        let value = strip_comment(value, true);
        match key.trim_matches(BLANKS).to_ascii_lowercase().as_str() {
            "sso_session" | "sso_start_url" | "sso_account_id" => info.sso = true,
            "region" if in_config && !value.is_empty() => info.region = Some(value.to_owned()),
            "endpoint_url" if in_config && !value.is_empty() => {
                info.endpoint_url = Some(value.to_owned());
            }
            _ => {}
        }
    }
}

/// The profile a section header line names, when it names one the SDK would load.
fn profile_of_header(line: &str, in_config: bool) -> Option<String> {
    let line = strip_comment(line, false);
    let inner = line
        .strip_prefix('[')?
        .strip_suffix(']')?
        .trim_matches(BLANKS);
    let name = match inner.split_once(BLANKS) {
        Some(("profile", name)) if in_config => name.trim_matches(BLANKS),
        None if !in_config || inner == "default" => inner,
        _ => return None,
    };
    is_identifier(name).then(|| name.to_owned())
}

/// `text` without a trailing comment and the blanks around it. In a value a comment starts only
/// after a blank (`a#b` stays whole), as the SDK reads it.
fn strip_comment(text: &str, needs_blank_before: bool) -> &str {
    let text = text.trim_matches(BLANKS);
    let mut end = text.len();
    let mut prev_blank = false;
    for (i, c) in text.char_indices() {
        if COMMENT.contains(&c) && (prev_blank || !needs_blank_before) {
            end = i;
            break;
        }
        prev_blank = c.is_whitespace();
    }
    text[..end].trim_matches(BLANKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzSECRETKEY";

    const CONFIG: &str = "# Written by aws configure, then by hand.
[default]
region = eu-west-1
output = json

[profile dev]
region = us-east-2 # Ohio
endpoint_url = https://s3.dev.example.com
s3 =
  addressing_style = path
  endpoint_url = https://nested.example.com

; IAM Identity Center
[profile work]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = us-west-2

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[services local]
s3 =
  endpoint_url = http://127.0.0.1:9000

[profile uses-services]
services = local

[legacy]
region = ap-south-1
";

    const CREDENTIALS: &str = "[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

[ci]
aws_access_key_id = AKIAI44QH8DHBEXAMPLE
aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY
";

    fn files_in(dir: &Path) -> AwsFiles {
        AwsFiles {
            config: dir.join(".aws").join("config"),
            credentials: dir.join(".aws").join("credentials"),
        }
    }

    fn put(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    fn text(path: &Path) -> String {
        fs::read_to_string(path).expect("read")
    }

    fn info(
        name: &str,
        sso: bool,
        region: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> ProfileInfo {
        ProfileInfo {
            name: name.to_owned(),
            sso,
            region: region.map(str::to_owned),
            endpoint_url: endpoint_url.map(str::to_owned),
        }
    }

    fn with_keys(name: &str) -> NewProfile {
        NewProfile {
            name: name.to_owned(),
            region: Some("us-east-1".to_owned()),
            endpoint_url: None,
            keys: Some(("AKIDEXAMPLE".to_owned(), Secret::new(SECRET))),
        }
    }

    #[cfg(unix)]
    fn assert_private(path: &Path) {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }

    fn expected_profiles() -> Vec<ProfileInfo> {
        vec![
            info("ci", false, None, None),
            info("default", false, Some("eu-west-1"), None),
            info(
                "dev",
                false,
                Some("us-east-2"),
                Some("https://s3.dev.example.com"),
            ),
            info("uses-services", false, None, None),
            info("work", true, Some("us-west-2"), None),
        ]
    }

    #[test]
    fn lists_the_profiles_of_both_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        put(&files.config, CONFIG);
        put(&files.credentials, CREDENTIALS);
        assert_eq!(files.profiles().expect("profiles"), expected_profiles());
        assert!(files.any_profile());
    }

    #[test]
    fn reads_crlf_files_alike() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        put(&files.config, &CONFIG.replace('\n', "\r\n"));
        put(&files.credentials, &CREDENTIALS.replace('\n', "\r\n"));
        assert_eq!(files.profiles().expect("profiles"), expected_profiles());
    }

    #[test]
    fn missing_files_are_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        assert_eq!(files.profiles().expect("profiles"), Vec::new());
        assert!(!files.any_profile());
    }

    #[test]
    fn an_unreadable_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        fs::create_dir_all(&files.config).expect("a folder where the file should be");
        assert!(files.profiles().is_err());
        assert!(!files.any_profile());
    }

    #[test]
    fn adding_keeps_every_byte_and_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        // No line break at the end of the config; CRLF in the credentials.
        let config_old = CONFIG.trim_end().to_owned();
        let credentials_old = CREDENTIALS.replace('\n', "\r\n");
        put(&files.config, &config_old);
        put(&files.credentials, &credentials_old);

        let p = NewProfile {
            endpoint_url: Some("http://127.0.0.1:9000".to_owned()),
            ..with_keys("minio")
        };
        files.add_profile(&p).expect("add");

        let config_new = fs::read(&files.config).expect("read config");
        let credentials_new = fs::read(&files.credentials).expect("read credentials");
        assert!(config_new.starts_with(config_old.as_bytes()));
        assert!(credentials_new.starts_with(credentials_old.as_bytes()));
        assert_eq!(
            text(&files.config),
            format!(
                "{config_old}\n\n[profile minio]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:9000\n"
            )
        );
        assert_eq!(
            text(&files.credentials),
            format!(
                "{credentials_old}\r\n[minio]\r\naws_access_key_id = AKIDEXAMPLE\r\naws_secret_access_key = {SECRET}\r\n"
            )
        );
        #[cfg(unix)]
        assert_private(&files.config);
        #[cfg(unix)]
        assert_private(&files.credentials);

        let listed = files.profiles().expect("profiles");
        assert_eq!(listed.len(), expected_profiles().len() + 1);
        assert!(listed.contains(&info(
            "minio",
            false,
            Some("us-east-1"),
            Some("http://127.0.0.1:9000")
        )));
    }

    #[test]
    fn adds_into_a_new_folder_and_only_where_needed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());

        let p = NewProfile {
            region: Some("eu-central-1".to_owned()),
            ..with_keys("default")
        };
        files.add_profile(&p).expect("add default");
        assert_eq!(text(&files.config), "[default]\nregion = eu-central-1\n");
        assert_eq!(
            text(&files.credentials),
            format!(
                "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {SECRET}\n"
            )
        );

        // No keys: the credentials file is left alone.
        let credentials_before = text(&files.credentials);
        let plain = NewProfile {
            name: "plain".to_owned(),
            region: None,
            endpoint_url: Some("https://s3.example.com".to_owned()),
            keys: None,
        };
        files.add_profile(&plain).expect("add plain");
        assert_eq!(text(&files.credentials), credentials_before);
        assert_eq!(
            text(&files.config),
            "[default]\nregion = eu-central-1\n\n[profile plain]\nendpoint_url = https://s3.example.com\n"
        );

        // Keys and nothing else: the config file is left alone.
        let config_before = text(&files.config);
        let keys_only = NewProfile {
            region: None,
            ..with_keys("keys-only")
        };
        files.add_profile(&keys_only).expect("add keys-only");
        assert_eq!(text(&files.config), config_before);
        assert!(text(&files.credentials).ends_with(&format!(
            "\n\n[keys-only]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {SECRET}\n"
        )));

        let names: Vec<String> = files
            .profiles()
            .expect("profiles")
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["default", "keys-only", "plain"]);
    }

    #[test]
    fn refuses_a_name_already_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        put(&files.config, CONFIG);
        put(&files.credentials, CREDENTIALS);
        for name in ["ci", "dev", "default", "work", "uses-services"] {
            let err = files.add_profile(&with_keys(name)).expect_err(name);
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{name}");
            assert!(!format!("{err:?}").contains(SECRET), "{name}");
        }
        assert_eq!(text(&files.config), CONFIG);
        assert_eq!(text(&files.credentials), CREDENTIALS);
    }

    #[test]
    fn refuses_bad_input_without_showing_the_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        let bad_names = [
            "",
            "a b",
            "[x]",
            "a]b",
            "a#b",
            "a;b",
            "a=b",
            "a\nb",
            "tab\t",
            "caf\u{e9}",
        ];
        for name in bad_names {
            let err = files.add_profile(&with_keys(name)).expect_err(name);
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name:?}");
        }
        let bad_profiles = [
            NewProfile {
                region: Some("us east-1".to_owned()),
                ..with_keys("p")
            },
            NewProfile {
                region: Some(String::new()),
                ..with_keys("p")
            },
            NewProfile {
                endpoint_url: Some("http://x\n[evil]".to_owned()),
                ..with_keys("p")
            },
            NewProfile {
                keys: Some((String::new(), Secret::new(SECRET))),
                ..with_keys("p")
            },
            NewProfile {
                keys: Some(("AKIDEXAMPLE".to_owned(), Secret::new(""))),
                ..with_keys("p")
            },
            NewProfile {
                keys: Some((
                    "AKIDEXAMPLE".to_owned(),
                    Secret::new(format!("{SECRET}\n[evil]")),
                )),
                ..with_keys("p")
            },
        ];
        for p in &bad_profiles {
            let err = files.add_profile(p).expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{p:?}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(SECRET), "{shown}");
        }
        assert!(!files.config.exists());
        assert!(!files.credentials.exists());
    }

    #[cfg(unix)]
    #[test]
    fn writes_through_a_symbolic_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = files_in(dir.path());
        let real = dir.path().join("dotfiles").join("credentials");
        put(&real, CREDENTIALS);
        fs::create_dir_all(dir.path().join(".aws")).expect("mkdir");
        std::os::unix::fs::symlink(&real, &files.credentials).expect("symlink");

        files.add_profile(&with_keys("linked")).expect("add");
        let meta = fs::symlink_metadata(&files.credentials).expect("meta");
        assert!(meta.file_type().is_symlink());
        let now = text(&real);
        assert!(now.starts_with(CREDENTIALS));
        assert!(now.contains("\n[linked]\n"));
    }

    /// Nothing can be created in `/proc/self` (not even by root), yet a missing file there reads
    /// as plain "not found": the credentials write fails after the config write succeeded.
    #[cfg(target_os = "linux")]
    #[test]
    fn puts_the_config_back_when_the_credentials_cannot_be_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let unwritable = PathBuf::from("/proc/self/s3share-test-credentials");

        let files = AwsFiles {
            config: dir.path().join("config"),
            credentials: unwritable.clone(),
        };
        put(&files.config, CONFIG);
        let err = files.add_profile(&with_keys("new")).expect_err("refused");
        assert!(!format!("{err} {err:?}").contains(SECRET));
        assert_eq!(text(&files.config), CONFIG);

        let fresh = AwsFiles {
            config: dir.path().join("fresh-config"),
            credentials: unwritable,
        };
        fresh.add_profile(&with_keys("new")).expect_err("refused");
        assert!(!fresh.config.exists());
    }

    #[test]
    fn expands_a_leading_tilde() {
        let home = Path::new("/home/u");
        assert_eq!(
            expand_home(Path::new("~/aws/config"), Some(home)),
            Some(PathBuf::from("/home/u/aws/config"))
        );
        assert_eq!(expand_home(Path::new("~/aws/config"), None), None);
        assert_eq!(
            expand_home(Path::new("/etc/aws/config"), None),
            Some(PathBuf::from("/etc/aws/config"))
        );
        assert_eq!(
            expand_home(Path::new("~other/config"), Some(home)),
            Some(PathBuf::from("~other/config"))
        );
    }

    #[test]
    fn reads_headers_and_values_as_the_sdk_does() {
        assert_eq!(
            profile_of_header("[ profile  a.b ]  # note", true).as_deref(),
            Some("a.b")
        );
        assert_eq!(
            profile_of_header("[default]", true).as_deref(),
            Some("default")
        );
        assert_eq!(
            profile_of_header("[profile default]", true).as_deref(),
            Some("default")
        );
        assert_eq!(profile_of_header("[legacy]", true), None);
        assert_eq!(profile_of_header("[sso-session corp]", true), None);
        assert_eq!(profile_of_header("[profile two words]", true), None);
        assert_eq!(profile_of_header("[ci]", false).as_deref(), Some("ci"));
        assert_eq!(profile_of_header("[profile ci]", false), None);
        assert_eq!(strip_comment(" us-east-1 ; west ", true), "us-east-1");
        assert_eq!(strip_comment("http://h/a#b", true), "http://h/a#b");
    }
}
