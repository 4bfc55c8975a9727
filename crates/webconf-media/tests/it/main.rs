//! Integration tests of the media core: whole calls driven in-process by a deterministic
//! harness (str0m browsers-to-be, a fake clock, an in-memory network, no sockets, no sleeps).

mod bandwidth;
mod control;
mod forwarding;
mod harness;
mod icerestart;
mod lastn;
mod nack;
mod robustness;
mod simulcast;
mod slots;
mod stunauth;
mod tcp;
mod zones;
