//! What s3share hands out: share links (one object), link checks, the register of every link
//! made with how to revoke it, and upload requests (a presigned POST form).

pub mod check;
pub mod register;
pub mod request;
pub mod share;
