//! How transfers are cut up and retried, and where unfinished uploads are remembered.

use std::path::PathBuf;

pub use s3share_core::limits::{MAX_OBJECT, MAX_PART, MAX_PARTS, MAX_SINGLE_PUT, MIN_PART};

/// How transfers are cut up and retried.
#[derive(Debug, Clone)]
pub struct TransferSettings {
    /// Files larger than this go in parts.
    pub multipart_threshold: u64,
    /// The part size asked for; grown so a file fits in 10,000 parts.
    pub part_size: u64,
    /// Parts (or ranges) in flight at once.
    pub parallel: usize,
    /// Attempts after the first for a part that failed transiently.
    pub retries: u32,
    /// Where unfinished uploads are remembered (`None`: nowhere, no resume).
    pub state_dir: Option<PathBuf>,
    /// Where unfinished downloads are remembered — outside the folders downloaded into, so
    /// no key can name or replace them (`None`: nowhere, no resume).
    pub download_state_dir: Option<PathBuf>,
}

impl Default for TransferSettings {
    fn default() -> Self {
        Self {
            multipart_threshold: 64 * 1024 * 1024,
            part_size: 16 * 1024 * 1024,
            parallel: 4,
            retries: 5,
            state_dir: None,
            download_state_dir: None,
        }
    }
}

/// The part size for a file of `size` bytes: the one asked for (at least 5 MiB), grown to a
/// whole MiB so the file fits in 10,000 parts.
pub fn part_size_for(size: u64, wanted: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let fit = size.div_ceil(u64::from(MAX_PARTS)).div_ceil(MIB) * MIB;
    wanted.max(MIN_PART).max(fit).min(MAX_PART)
}

/// The byte range (offset, length) of part `n` (1-based).
pub fn part_range(size: u64, part_size: u64, n: u32) -> (u64, u64) {
    let offset = u64::from(n - 1) * part_size;
    (offset, part_size.min(size.saturating_sub(offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_file_up_to_5_tib_fits_in_10000_parts() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size_for(100 * MIB, 16 * MIB), 16 * MIB);
        assert_eq!(part_size_for(100 * MIB, MIB), 5 * MIB);
        for size in [MAX_OBJECT, MAX_OBJECT - 1, 200 * 1024 * MIB, 1] {
            let part = part_size_for(size, 16 * MIB);
            assert!(
                size.div_ceil(part) <= u64::from(MAX_PARTS),
                "{size}: {part}"
            );
            assert!((MIN_PART..=MAX_PART).contains(&part));
        }
        assert_eq!(part_range(25, 10, 3), (20, 5));
        assert_eq!(part_range(30, 10, 3), (20, 10));
    }
}
