//! SQL storage of the runtime plane (SQLite or PostgreSQL through one `AnyPool`).

pub mod audit;
