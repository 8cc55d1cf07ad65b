//! Checking what the store holds: [`verify`] reruns finished jobs and
//! compares their results; [`fsck`] checks every stored object against its
//! digest and every reference against what is stored; [`gc`] finds what
//! nothing references.

pub mod fsck;
pub mod gc;
pub mod verify;
