//! Integration tests of the demo API, its metrics, its logs and the
//! generators, over real servers on 127.0.0.1 port 0.

mod endpoints;
mod exposition;
mod generators;
mod logs;
mod support;
