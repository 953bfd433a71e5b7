//! The poison-tolerant lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Lock a mutex, going on with the data if a panicking thread poisoned it. Every mutex in
/// s3share guards caches, counters or state that is whole between statements, never
/// half-updated state, so the data is still good.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
