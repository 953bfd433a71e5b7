//! One file per view. Each draws and returns what the user asked; `app` acts on it.

pub mod browser;
pub mod connections;
pub mod expiry_picker;
pub mod links;
pub mod posture;
pub mod request;
pub mod settings;
pub mod share_dialog;
pub mod transfers;
