//! An object's metadata (`<h>.json`) and the data files it names.

use s3s::dto::{ETag, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// Hex MD5 of the content (single PUT), or of the parts' MD5s (multipart).
    pub md5: String,
    /// The number of parts of a multipart upload: the ETag then reads `md5-N`.
    #[serde(default)]
    pub parts: Option<u32>,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    /// Nanoseconds since the epoch.
    pub modified_unix_nanos: i128,
    pub checksum_crc32c: Option<String>,
    pub checksum_sha256: Option<String>,
    /// Names the data file; `None` for objects written before versions (`<h>.data`).
    #[serde(default)]
    pub version: Option<String>,
    /// A multipart object is kept as its parts, unchanged: the size of each segment, stored in
    /// `<h>.<version>.<i>.data`. `None`: one data file.
    #[serde(default)]
    pub segments: Option<Vec<u64>>,
}

impl ObjectMeta {
    pub fn modified(&self) -> Timestamp {
        Timestamp::from(self.modified_at())
    }

    pub fn modified_at(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp_nanos(self.modified_unix_nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    pub fn etag(&self) -> ETag {
        ETag::Strong(self.etag_value())
    }

    /// The ETag without quotes: `md5`, or `md5-N` for a multipart object.
    pub fn etag_value(&self) -> String {
        match self.parts {
            Some(n) => format!("{}-{n}", self.md5),
            None => self.md5.clone(),
        }
    }
}

/// The data file of segment `i` of version `version` of the object whose key hashes to `hash`
/// (a completed multipart upload keeps its parts so).
pub(crate) fn segment_file_name(hash: &str, version: &str, i: usize) -> String {
    format!("{hash}.{version}.{i}.data")
}

/// The names and sizes of an object's data files.
pub(crate) fn data_files(hash: &str, meta: &ObjectMeta) -> Vec<(String, u64)> {
    match (&meta.version, &meta.segments) {
        (Some(v), Some(sizes)) => sizes
            .iter()
            .enumerate()
            .map(|(i, size)| (segment_file_name(hash, v, i), *size))
            .collect(),
        (Some(v), None) => vec![(format!("{hash}.{v}.data"), meta.size)],
        (None, _) => vec![(format!("{hash}.data"), meta.size)],
    }
}
