//! What an instruction does with the kinds of its stack operands: which
//! must be canonicalised first, and the kind of its result.

use wasmparser::{Operator, ValType};

use super::kind::{Kind, Rule, Shape, rule};

/// Operands to canonicalise, as (depth from the top of the stack, shape).
pub type Canon = Vec<(usize, Shape)>;

/// The effect of `op` (not a `local.*` instruction) on `operands` (its
/// operands' kinds, deepest first). `select_type` is the type of a
/// `select`'s value operands.
pub fn effect(op: &Operator<'_>, operands: &[Kind], select_type: Option<ValType>) -> (Canon, Kind) {
    let depth = |i: usize| operands.len() - 1 - i;
    let dirty = |i: usize| match operands[i] {
        Kind::Dirty(s) => Some((depth(i), s)),
        _ => None,
    };
    let all_dirty = || (0..operands.len()).filter_map(dirty).collect::<Vec<_>>();
    match rule(op) {
        Rule::Arith { out, input } => {
            let canon = (0..operands.len())
                .filter_map(dirty)
                .filter(|&(_, s)| s != input)
                .collect();
            (canon, Kind::Dirty(out))
        }
        Rule::Join { out, inputs } => join(operands, inputs, out),
        Rule::CopySign(shape) if operands.len() == 2 => {
            let (mut canon, kind) = join(&operands[..1], &[shape], shape);
            canon.iter_mut().for_each(|(d, _)| *d += 1);
            canon.extend(dirty(1));
            (canon, kind)
        }
        Rule::Select if operands.len() == 3 => {
            let shape = match select_type {
                Some(ValType::F32) => Some(Shape::F32),
                Some(ValType::F64) => Some(Shape::F64),
                Some(ValType::V128) => operands[..2].iter().find_map(|k| match k {
                    Kind::Dirty(s) => Some(*s),
                    _ => None,
                }),
                _ => None,
            };
            match shape {
                Some(shape) => {
                    let (mut canon, kind) = join(&operands[..2], &[shape, shape], shape);
                    canon.iter_mut().for_each(|(d, _)| *d += 1);
                    (canon, kind)
                }
                None => (all_dirty(), Kind::Det),
            }
        }
        Rule::Shuffle { granule, uses } if operands.len() == 2 => shuffle(operands, granule, uses),
        Rule::Ignore => (Vec::new(), Kind::Det),
        Rule::SafeResult => (all_dirty(), Kind::Safe),
        Rule::Const(safe) => (Vec::new(), if safe { Kind::Safe } else { Kind::Det }),
        _ => (all_dirty(), Kind::Det),
    }
}

/// [`Rule::Join`] over the last operands, read in `inputs` shapes.
fn join(operands: &[Kind], inputs: &[Shape], out: Shape) -> (Canon, Kind) {
    let n = inputs.len().min(operands.len());
    let first = operands.len() - n;
    let parts = operands[first..]
        .iter()
        .zip(inputs)
        .enumerate()
        .map(|(i, (&k, &shape))| {
            let depth = n - 1 - i;
            match k {
                Kind::Dirty(s) if s == shape => Part::Kept(depth, s, Kind::Dirty(out)),
                Kind::Dirty(s) => Part::Seen(depth, s),
                // A scalar that is not NaN can still hold a NaN pattern when
                // its bits are read as lanes of another width.
                Kind::Safe if shape.is_vector() != out.is_vector() => Part::Fixed(Kind::Det),
                other => Part::Fixed(other),
            }
        });
    combine(parts)
}

/// [`Rule::Shuffle`]: lanes moved whole keep their kind; an operand the
/// shuffle does not read is not seen at all.
fn shuffle(operands: &[Kind], granule: u8, uses: [bool; 2]) -> (Canon, Kind) {
    let parts = operands
        .iter()
        .enumerate()
        .filter(|&(i, _)| uses[i])
        .map(|(i, &k)| {
            let depth = operands.len() - 1 - i;
            match k {
                Kind::Dirty(s) if s.lane_bytes() <= granule => Part::Kept(depth, s, k),
                Kind::Dirty(s) => Part::Seen(depth, s),
                // Safe lanes stay safe only when moved as whole f64s (both
                // readings keep their halves together).
                Kind::Safe if granule < 8 => Part::Fixed(Kind::Det),
                other => Part::Fixed(other),
            }
        });
    combine(parts)
}

/// How one operand's bits go into a result made of them.
enum Part {
    /// Dirty, and may stay so: (depth, shape, the result's kind if it does).
    Kept(usize, Shape, Kind),
    /// Dirty, but read in another shape: canonicalised (depth, shape).
    Seen(usize, Shape),
    /// Not dirty.
    Fixed(Kind),
}

/// The result of `parts`: dirty if every part is dirty-compatible or
/// safe; otherwise fixed, with every dirty part canonicalised first.
fn combine(parts: impl Iterator<Item = Part>) -> (Canon, Kind) {
    let mut canon = Vec::new();
    let mut kept = Vec::new();
    let mut kind = Kind::Safe;
    for part in parts {
        match part {
            Part::Kept(depth, shape, k) => {
                kept.push((depth, shape));
                kind = kind.join(k);
            }
            Part::Seen(depth, shape) => {
                canon.push((depth, shape));
                kind = kind.join(Kind::Det);
            }
            Part::Fixed(k) => kind = kind.join(k),
        }
    }
    if kind == Kind::Det {
        canon.extend(kept);
    }
    (canon, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Kind = Kind::Dirty(Shape::F64x2);

    #[test]
    fn arithmetic_keeps_dirty_operands_of_its_shape() {
        let (canon, kind) = effect(&Operator::F64x2Add, &[D, D], None);
        assert!(canon.is_empty());
        assert_eq!(kind, D);
        // f32 lanes read as f64: the f32 NaN's payload would show.
        let (canon, _) = effect(&Operator::F64x2Add, &[Kind::Dirty(Shape::F32x4), D], None);
        assert_eq!(canon, vec![(1, Shape::F32x4)]);
    }

    #[test]
    fn observers_canonicalise_every_dirty_operand() {
        let (canon, kind) = effect(&Operator::V128Xor, &[D, Kind::Det], None);
        assert_eq!(canon, vec![(1, Shape::F64x2)]);
        assert_eq!(kind, Kind::Det);
        let (canon, _) = effect(&Operator::F64x2Lt, &[D, D], None);
        assert!(canon.is_empty(), "comparisons do not see NaN bits");
    }

    #[test]
    fn select_of_a_dirty_and_a_loaded_value_is_canonical() {
        let f = Kind::Dirty(Shape::F64);
        let (canon, kind) = effect(
            &Operator::Select,
            &[f, Kind::Det, Kind::Det],
            Some(ValType::F64),
        );
        assert_eq!(canon, vec![(2, Shape::F64)]);
        assert_eq!(kind, Kind::Det);
        let (canon, kind) = effect(
            &Operator::Select,
            &[f, Kind::Safe, Kind::Det],
            Some(ValType::F64),
        );
        assert!(canon.is_empty());
        assert_eq!(kind, f);
    }

    #[test]
    fn copysign_sees_the_sign_operand_only() {
        let f = Kind::Dirty(Shape::F32);
        let (canon, kind) = effect(&Operator::F32Copysign, &[f, f], None);
        assert_eq!(canon, vec![(0, Shape::F32)]);
        assert_eq!(kind, f);
    }
}
