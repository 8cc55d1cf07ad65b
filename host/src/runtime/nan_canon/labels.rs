//! Where control flows together: the kinds of the locals at each label, and
//! which locals an edge into a label must canonicalise.
//!
//! A local's kind is followed through the function (flow-sensitively: LLVM
//! reuses locals for unrelated values). Where two ways meet and a local is
//! dirty on one and anything else on the other, the dirty way canonicalises
//! it first: after the meeting point it then holds fixed bits either way.

use std::collections::{BTreeSet, HashMap};

use super::kind::{Kind, Shape};

/// What the analysis knows at each label, by the index of the instruction
/// that opens it (`block`, `loop`, `if`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    /// The locals' kinds where control arrives: after a block's or an if's
    /// `end`, at a loop's head.
    pub state: HashMap<usize, Vec<Kind>>,
    /// Locals to canonicalise before an `if` that has no `else`: the way
    /// round its body has no code of its own to do it in.
    pub before_if: HashMap<usize, BTreeSet<u32>>,
}

impl Labels {
    /// The state at the label opened at `start`, as known so far (nothing
    /// known: every local safe, the bottom of the lattice).
    pub fn at(&self, start: usize, locals: usize) -> Vec<Kind> {
        self.state
            .get(&start)
            .cloned()
            .unwrap_or_else(|| vec![Kind::Safe; locals])
    }

    /// Adds an edge's state to the label opened at `start`.
    pub fn arrive(&mut self, start: usize, edge: &[Kind]) {
        match self.state.get_mut(&start) {
            Some(state) => join_into(state, edge),
            None => {
                self.state.insert(start, edge.to_vec());
            }
        }
    }
}

/// `into[i] = into[i] ⊔ from[i]` for every local.
pub fn join_into(into: &mut [Kind], from: &[Kind]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = a.join(*b);
    }
}

/// The locals an edge carrying `from` must canonicalise to enter a label
/// whose state (with this edge joined) is `to`: those dirty here and not
/// dirty in the same shape there.
pub fn to_canonicalise(from: &[Kind], to: &[Kind]) -> Vec<(u32, Shape)> {
    from.iter()
        .zip(to)
        .enumerate()
        .filter_map(|(i, (&f, &t))| match f {
            Kind::Dirty(s) if t != f => Some((i as u32, s)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_dirty_on_one_way_and_loaded_on_the_other_is_canonicalised() {
        let d = Kind::Dirty(Shape::F64);
        let mut label = vec![Kind::Det, Kind::Safe, d];
        let edge = [d, d, d];
        join_into(&mut label, &edge);
        assert_eq!(label, vec![Kind::Det, d, d]);
        assert_eq!(to_canonicalise(&edge, &label), vec![(0, Shape::F64)]);
    }
}
