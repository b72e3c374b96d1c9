//! Governance in SQL: [`policies`], and [`decisions`] with their violations and the audit
//! chain's pages. The chain's appends and its verification are in [`super::chain`].

pub mod decisions;
pub mod policies;
