//! Checking what the store holds: [`verify`] reruns finished jobs and
//! compares their results; [`fsck`] checks every stored object against its
//! digest and every reference against what is stored.

pub mod fsck;
pub mod verify;
