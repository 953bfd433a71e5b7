//! Numbered alternatives for a taken name ("Keep both"), for keys and local files alike.

/// `report (1).pdf`, `report (2).pdf`, ...: the `n`th alternative name for a key or path,
/// numbered before the extension of its last segment.
pub fn numbered_name(name: &str, n: u32) -> String {
    let (dir, last) = name.rsplit_once('/').map_or(("", name), |(d, n)| (d, n));
    let (stem, ext) = match last.rfind('.') {
        Some(i) if i > 0 => (&last[..i], &last[i..]),
        _ => (last, ""),
    };
    let renamed = format!("{stem} ({n}){ext}");
    if name.contains('/') {
        format!("{dir}/{renamed}")
    } else {
        renamed
    }
}

#[cfg(test)]
mod tests {
    use super::numbered_name;

    #[test]
    fn numbers_go_before_the_extension_of_the_last_segment() {
        assert_eq!(numbered_name("a/report.pdf", 1), "a/report (1).pdf");
        assert_eq!(numbered_name("v1.2/notes", 2), "v1.2/notes (2)");
        assert_eq!(numbered_name(".env", 1), ".env (1)");
        assert_eq!(numbered_name("x.tar.gz", 3), "x.tar (3).gz");
    }
}
