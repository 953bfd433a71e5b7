//! Reaching S3: the connection (endpoint, credentials, each bucket's region), the AWS shared
//! files, the saved settings, listings and object metadata, and the errors of presigned HTTP
//! requests in words.

pub mod aws_files;
pub mod browse;
pub mod config;
pub mod connection;
pub mod endpoint;
pub mod http;
pub mod presets;
