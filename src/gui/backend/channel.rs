//! The waking channel: events from the backend's tasks to the UI, each send followed by a
//! repaint request, so the window sleeps until something arrives.

use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;

use super::contract::Event;

/// Wakes the UI. The context is known once the first frame runs.
#[derive(Clone, Default)]
pub struct Repaint(Arc<OnceLock<egui::Context>>);

impl Repaint {
    pub fn set(&self, ctx: &egui::Context) {
        let _ = self.0.set(ctx.clone());
    }

    pub(super) fn now(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}

/// The sending half: each event wakes the UI.
#[derive(Clone)]
pub struct EventSender {
    tx: mpsc::Sender<Event>,
    repaint: Repaint,
}

impl EventSender {
    /// A bounded channel of `capacity` events whose every send wakes the UI through `repaint`.
    pub fn channel(capacity: usize, repaint: Repaint) -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Self { tx, repaint }, rx)
    }
}

impl EventSender {
    /// Wait for room (back-pressure for listings), then wake the UI.
    pub(super) async fn send(&self, event: Event) {
        if self.tx.send(event).await.is_ok() {
            self.repaint.now();
        }
    }

    /// For progress: dropped when the UI is behind, the next one carries the newer numbers.
    pub(super) fn try_send(&self, event: Event) {
        if self.tx.try_send(event).is_ok() {
            self.repaint.now();
        }
    }
}
