//! Integration tests of the server crate: the real axum application on a real 127.0.0.1
//! socket, talking to a real SMTP server (Debian's `python3-aiosmtpd`, started per test on a
//! free port and stopped when the test ends).
//!
//! One test binary for the crate (link time); modules by concern.

mod auth_api;
mod invite;
mod network;
mod probe;
mod smtp;
mod support;
mod tcp_media;
