//! The bytes of a ranged download written at their places by one thread of its own, while
//! the streams go on receiving. Measured on the sink (`benches/transfer.sh`, SERVERS=sink): a
//! positioned write per stream on the blocking pool made the streams wait for the disk between
//! reads (no overlap of receiving and writing), and writes from several threads into one file
//! contend for its inode lock (ext4's `i_rwsem`), which the kernel spins on: an eighth of the
//! CPU of a download went there. One writer, fed through a short queue, has neither.

use std::fs::File;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

/// Buffers queued for the writer before a stream waits: about 6 MiB of the ~400 KiB reads a
/// fast connection delivers. Measured on the sink (1 GiB, best of 5): a queue of 4 took 0.96 s
/// and 1.15 s of CPU, 8 took 0.78 s / 1.04 s, 16 took 0.61 s / 0.79 s at 36 MB of RSS (a
/// stream that waits for the disk stops reading its socket, and TCP's window closes).
const QUEUE: usize = 16;

enum Job {
    Write {
        at: u64,
        data: Bytes,
    },
    /// Answered once every write queued before it is done (or with the first that failed).
    Written(oneshot::Sender<std::io::Result<()>>),
}

/// One writer thread for one file.
pub struct FileWriter {
    jobs: mpsc::Sender<Job>,
    /// Hears when the thread has ended and closed its handle on the file.
    closed: oneshot::Receiver<()>,
}

impl FileWriter {
    /// Start the writer of `file`. It ends when the last handle is dropped and its queue is
    /// written.
    pub fn start(file: Arc<File>) -> std::io::Result<Self> {
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        let (ended, closed) = oneshot::channel();
        std::thread::Builder::new()
            .name("s3share-write".into())
            .spawn(move || {
                // After a failed write nothing more is written; every later barrier hears why.
                let mut failed: Option<(std::io::ErrorKind, String)> = None;
                while let Some(job) = queue.blocking_recv() {
                    match job {
                        Job::Write { at, data } if failed.is_none() => {
                            if let Err(e) = write_all_at(&file, &data, at) {
                                failed = Some((e.kind(), e.to_string()));
                            }
                        }
                        Job::Write { .. } => {}
                        Job::Written(reply) => {
                            let _ = reply.send(match &failed {
                                None => Ok(()),
                                Some((kind, text)) => Err(std::io::Error::new(*kind, text.clone())),
                            });
                        }
                    }
                }
                drop(file);
                let _ = ended.send(());
            })?;
        Ok(Self { jobs, closed })
    }

    /// Write what is queued, close the file's handle and end the thread.
    pub async fn finish(self) {
        drop(self.jobs);
        let _ = self.closed.await;
    }

    /// Queue `data` for `at`; waits only while the queue is full.
    pub async fn write(&self, at: u64, data: Bytes) -> std::io::Result<()> {
        self.jobs
            .send(Job::Write { at, data })
            .await
            .map_err(|_| stopped())
    }

    /// Wait until everything queued so far is on its way to the disk (in the page cache, as
    /// curl's and browsers' writes are).
    pub async fn written(&self) -> std::io::Result<()> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Written(reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> std::io::Error {
    std::io::Error::other("the download's writer stopped")
}

fn write_all_at(file: &File, buf: &[u8], at: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, at)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            done +=
                std::os::windows::fs::FileExt::seek_write(file, &buf[done..], at + done as u64)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_land_at_their_places_and_a_failure_is_heard_at_the_next_barrier() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let file = Arc::new(File::create(&path).expect("create"));
        file.set_len(10).expect("len");
        let writer = FileWriter::start(file).expect("start");
        writer
            .write(5, Bytes::from_static(b"world"))
            .await
            .expect("queued");
        writer
            .write(0, Bytes::from_static(b"hello"))
            .await
            .expect("queued");
        writer.written().await.expect("written");
        assert_eq!(std::fs::read(&path).expect("read"), b"helloworld");

        // A file opened read-only refuses the write: the barrier says so, and goes on saying it.
        let read_only = Arc::new(File::open(&path).expect("open"));
        let writer = FileWriter::start(read_only).expect("start");
        writer
            .write(0, Bytes::from_static(b"x"))
            .await
            .expect("queued");
        assert!(writer.written().await.is_err());
        writer
            .write(1, Bytes::from_static(b"y"))
            .await
            .expect("queued");
        assert!(writer.written().await.is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"helloworld");
    }
}
