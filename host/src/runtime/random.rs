//! Deterministic randomness: every random byte a job sees comes from a
//! blake3 extendable output stream keyed by the job's seed.
//!
//! blake3's XOF is a fixed specification, so the stream for a seed does not
//! change with crate versions. Each WASI source (`random`, `insecure`,
//! `insecure-seed`) gets its own stream by key derivation.

use std::convert::Infallible;

use rand_core::TryRng;

/// A random source that replays the same bytes for the same seed.
pub struct SeededRandom {
    stream: blake3::OutputReader,
}

impl SeededRandom {
    /// The stream for `seed` and purpose `context` (a fixed string).
    pub fn new(seed: &[u8; 32], context: &str) -> SeededRandom {
        let mut hasher = blake3::Hasher::new_derive_key(context);
        hasher.update(seed);
        SeededRandom {
            stream: hasher.finalize_xof(),
        }
    }

    /// A `u128` derived from `seed` for purpose `context`.
    pub fn derive_u128(seed: &[u8; 32], context: &str) -> u128 {
        let mut bytes = [0u8; 16];
        SeededRandom::new(seed, context).stream.fill(&mut bytes);
        u128::from_le_bytes(bytes)
    }
}

impl TryRng for SeededRandom {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.stream.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.stream.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.stream.fill(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    #[test]
    fn same_seed_same_stream_and_purposes_differ() {
        let seed = [7u8; 32];
        let mut a = SeededRandom::new(&seed, "djx test");
        let mut b = SeededRandom::new(&seed, "djx test");
        let mut c = SeededRandom::new(&seed, "djx other");
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}
