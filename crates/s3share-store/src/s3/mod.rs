//! The S3 operations the store answers, on the disk layer: `service` dispatches each to
//! `objects`, `multipart` or `posture`; `post` takes browser form uploads (routed by the front
//! door, not s3s); `listing` is ListObjectsV2's pure range logic; `common` what they share.

mod common;
mod conditions;
mod listing;
mod multipart;
mod objects;
mod post;
mod posture;
mod service;

pub(crate) use common::{Handler, decoded_query, wrong_region};
pub(crate) use post::{FormUploads, sigv2_refused};
