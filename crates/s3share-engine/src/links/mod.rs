//! What s3share hands out: share links (one object), link checks, the register of every link
//! made with how to revoke it, upload requests (a presigned POST form), and share pages (one link for many files).

pub mod check;
pub mod page;
pub mod register;
pub mod request;
pub mod share;
