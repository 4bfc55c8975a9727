//! Integration tests of the room crate: the parsers that see the network, hammered with
//! mutated inputs (a bounded, deterministic stand-in for the fuzz targets in `fuzz/`, so that
//! CI exercises them on every run).

mod mutation;
