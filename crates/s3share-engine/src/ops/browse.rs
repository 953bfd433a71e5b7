//! Browsing, on a session: buckets, one listing level (streamed, or a page at a time as the
//! user scrolls), deleting objects, making folders.

use std::ops::ControlFlow;

use super::session::Session;
use crate::base::error::{Error, Result};
use crate::base::s3uri::S3Uri;
use crate::client::browse::{self, BucketInfo, Entry, LevelPager};

impl Session {
    pub async fn list_buckets(&self) -> Result<Vec<BucketInfo>> {
        browse::list_buckets(self.connection()).await
    }

    /// Every page of the level under `prefix`, handed to `on_page` as it arrives.
    pub async fn list_level(
        &self,
        bucket: &str,
        prefix: &str,
        on_page: impl FnMut(Vec<Entry>) -> ControlFlow<()>,
    ) -> Result<usize> {
        browse::list_level(self.connection(), bucket, prefix, on_page).await
    }

    /// The level under `prefix`, a page at a time, fetched when asked.
    pub async fn level_pager(&self, bucket: &str, prefix: &str) -> Result<LevelPager> {
        LevelPager::new(self.connection(), bucket, prefix).await
    }

    /// Delete `objects`; returns how many went and why the others did not.
    pub async fn delete_objects(&self, objects: &[S3Uri]) -> (usize, Vec<Error>) {
        let mut deleted = 0;
        let mut errors = Vec::new();
        for object in objects {
            match browse::delete_object(self.connection(), object).await {
                Ok(()) => deleted += 1,
                Err(e) => errors.push(e),
            }
        }
        (deleted, errors)
    }

    /// Make an empty folder `name` under `parent` in `bucket`; returns it.
    pub async fn create_folder(&self, bucket: &str, parent: &str, name: &str) -> Result<S3Uri> {
        browse::create_folder(self.connection(), bucket, parent, name)
            .await
            .map(|prefix| S3Uri::new(bucket, prefix))
    }
}
