//! A transfer's state (which parts or ranges are done) saved beside the transfer, never in its
//! way. Saving after each part from the loop that drives the parts held every part up for the
//! save's fsync: 256 of them for a 4 GiB upload, 0.2 s of its 1.5 s on the sink. Here one task
//! saves, one save at a time, and a state that arrives while a save runs replaces any older one
//! still waiting, so the newest state is always the next written and none is written twice.

use std::future::Future;

use tokio::sync::watch;

use crate::base::error::Error;

/// A transfer's state, changed as the transfer goes and saved in the background (`save`:
/// `None` keeps it in memory only). It is copied only when a save begins, not per change.
pub struct StateSaver<S> {
    latest: watch::Sender<S>,
    task: Option<tokio::task::JoinHandle<Option<Error>>>,
}

impl<S: Clone + Send + Sync + 'static> StateSaver<S> {
    /// Hold `state` (already saved as it is), saving each change with `save`.
    pub fn start<F, Fut>(state: S, save: Option<F>) -> Self
    where
        F: Fn(S) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Error>> + Send,
    {
        let (latest, mut newest) = watch::channel(state);
        let task = save.map(|save| {
            tokio::spawn(async move {
                let mut failed = None;
                // Ends when the sender is gone and its last state has been seen.
                while newest.changed().await.is_ok() {
                    let state = newest.borrow_and_update().clone();
                    if let Err(e) = save(state).await {
                        failed.get_or_insert(e);
                    }
                }
                failed
            })
        });
        Self { latest, task }
    }

    /// Change the state; it is saved as soon as the save before it is done.
    pub fn update(&self, change: impl FnOnce(&mut S)) {
        self.latest.send_modify(change);
    }

    /// The state as it is now.
    pub fn current(&self) -> S {
        self.latest.borrow().clone()
    }

    /// Wait until the newest state is saved: that state, and the first save that failed, if
    /// any did.
    pub async fn finish(self) -> (S, Option<Error>) {
        let state = self.current();
        drop(self.latest);
        let failed = match self.task {
            None => None,
            Some(task) => task.await.unwrap_or_else(|e| {
                Some(
                    Error::new(
                        crate::base::error::ErrorKind::LocalIo,
                        "The transfer's state could not be saved",
                    )
                    .with_detail(e.to_string()),
                )
            }),
        };
        (state, failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn the_newest_state_is_saved_last_and_none_twice() {
        let saved = Arc::new(Mutex::new(Vec::new()));
        let log = saved.clone();
        let saver = StateSaver::start(
            0,
            Some(move |n: u32| {
                let log = log.clone();
                async move {
                    log.lock().expect("log").push(n);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok(())
                }
            }),
        );
        saver.update(|n| *n = 1);
        // The first save begins, and holds the next ones up while it runs.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        for n in 2..=5 {
            saver.update(|s| *s = n);
        }
        let (last, failed) = saver.finish().await;
        assert!(failed.is_none());
        assert_eq!(last, 5);
        let saved = saved.lock().expect("log").clone();
        assert_eq!(saved.last(), Some(&5), "{saved:?}");
        assert!(saved.windows(2).all(|w| w[0] < w[1]), "{saved:?}");
        assert_eq!(saved, [1, 5], "states waiting behind a save are coalesced");
    }

    #[tokio::test]
    async fn a_failed_save_is_told_at_the_end() {
        let saver = StateSaver::start(
            0,
            Some(|n: u32| async move {
                if n == 1 {
                    Err(Error::invalid("disk full"))
                } else {
                    Ok(())
                }
            }),
        );
        saver.update(|n| *n = 1);
        tokio::task::yield_now().await;
        saver.update(|n| *n = 2);
        let (last, failed) = saver.finish().await;
        assert_eq!(last, 2);
        assert!(failed.is_some_and(|e| e.message().contains("disk full")));
    }
}
