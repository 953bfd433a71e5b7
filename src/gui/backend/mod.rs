//! The GUI's only way to the engine: `Command`s in, `Event`s out.
//!
//! - `contract`: what may be asked and what comes back;
//! - `channel`: the bounded, waking channel the events travel on;
//! - `dispatch`: the [`Backend`], which starts each command's work on tokio and returns at
//!   once, so the UI thread never waits on the network or the disk.

mod channel;
mod contract;
mod dispatch;

pub use channel::{EventSender, Repaint};
pub use contract::{
    Clash, Command, ConnectTarget, Event, LOCAL_LABEL, PlannedTransfer, ShareJob, TransferId,
    TransferUpdate, TrustCommand, TrustEvent,
};
pub use dispatch::{Backend, BackendOptions, FIRST_ROWS};
