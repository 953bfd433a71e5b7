//! What a user does, once, for both fronts: a [`Session`] (a connection, the register of links,
//! the transfer settings, opened once) and one method per action — share, request, posture,
//! links, upload, download. The CLI and the GUI call these; neither builds keys, paths,
//! records or follow-up steps of its own.

mod browse;
mod links;
mod session;
mod transfers;
mod trust;

pub use links::{check_page_path, save_page};
pub use session::{Session, runtime};
pub use transfers::{
    Clash, PlannedDownload, ServerUpload, UploadJob, UploadPlan, Uploaded, plan_uploads,
};
pub use trust::{guardrail_policy, signer_policy};
