//! What the rewrite knows about a value's bits, and what each instruction
//! does with it.
//!
//! WebAssembly leaves one thing about floats unspecified: the sign and
//! payload of a NaN that an arithmetic instruction produces. Everything
//! else (which results are NaN, every non-NaN bit, what comparisons say) is
//! fixed. So a NaN's bits only matter where the program can see them: a
//! store, a reinterpretation, an integer or bitwise SIMD operation, the sign
//! operand of `copysign`, a call, a block boundary, a global. The rewrite
//! marks the results of arithmetic as [`Kind::Dirty`] and canonicalises a
//! dirty value only when it reaches such a point, instead of after every
//! operation.

use wasmparser::Operator;

/// The float layout of a value whose NaNs may be unspecified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A scalar `f32`.
    F32,
    /// A scalar `f64`.
    F64,
    /// A `v128` of four `f32` lanes.
    F32x4,
    /// A `v128` of two `f64` lanes.
    F64x2,
}

impl Shape {
    /// Whether this is a `v128` shape.
    pub fn is_vector(self) -> bool {
        matches!(self, Shape::F32x4 | Shape::F64x2)
    }
}

/// What is known about a value's bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Fixed bits that contain no NaN in any float reading (zero, a non-NaN
    /// constant, an integer converted to float): canonicalising it in any
    /// shape leaves it unchanged.
    Safe,
    /// Bits fixed by the program (loaded, passed in, already canonical, or
    /// not a float at all). Must not be canonicalised: a NaN payload that
    /// was loaded is data.
    Det,
    /// An arithmetic result in `Shape` whose NaNs, if any, have unspecified
    /// sign and payload. Canonicalised before its bits can be seen.
    Dirty(Shape),
}

impl Kind {
    /// The least upper bound of two kinds a storage location may hold: a
    /// location that may hold both a dirty value and fixed data must get
    /// canonical values only.
    pub fn join(self, other: Kind) -> Kind {
        match (self, other) {
            (Kind::Safe, k) | (k, Kind::Safe) => k,
            (Kind::Dirty(a), Kind::Dirty(b)) if a == b => Kind::Dirty(a),
            _ => Kind::Det,
        }
    }
}

/// How an instruction treats its operands' kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Float arithmetic: reads operands of `input` shape without revealing
    /// NaN bits and produces a dirty result of `out` shape. A dirty operand
    /// of another shape is canonicalised first (its bits are reinterpreted).
    Arith {
        /// The result's shape.
        out: Shape,
        /// The shape the operands are read as.
        input: Shape,
    },
    /// The result is one of the listed operands, or lanes of them, unchanged
    /// (abs/neg change only the sign bit, which is fine for a value that is
    /// canonicalised later): operand `i` is read in shape `inputs[i]`, the
    /// result has shape `out`. Dirty if any operand is dirty and none is
    /// fixed data; otherwise the dirty operands are canonicalised.
    Join {
        /// The result's shape.
        out: Shape,
        /// The operands' shapes, deepest first (the operands not listed,
        /// such as a lane index, are not floats).
        inputs: &'static [Shape],
    },
    /// `copysign`: the sign operand (on top) is seen bit for bit; the
    /// magnitude passes through as in [`Rule::Join`].
    CopySign(Shape),
    /// Reads floats without revealing NaN bits (comparisons, truncations,
    /// `drop`); the results are fixed.
    Ignore,
    /// Takes no floats and produces a float that is never NaN.
    SafeResult,
    /// A constant: safe unless it is a NaN.
    Const(bool),
    /// `select`: a [`Rule::Join`] of its two value operands, in the shape of
    /// their type.
    Select,
    /// `i8x16.shuffle` whose result lanes are whole groups of `granule`
    /// bytes taken from the operands (8: it moves f64 lanes; 4: f32 lanes;
    /// 1: anything). `uses[i]` says whether operand `i` is read at all.
    Shuffle {
        /// The size of the moved groups, in bytes.
        granule: u8,
        /// Whether each operand contributes a byte to the result.
        uses: [bool; 2],
    },
    /// Anything else sees its operands' bits (or passes them somewhere this
    /// function does not follow): dirty operands are canonicalised and the
    /// results are fixed.
    Observe,
}

/// The rule of `op`. `local.*` instructions are handled by the caller.
pub fn rule(op: &Operator<'_>) -> Rule {
    use Operator as O;
    use Shape::*;
    let arith = |out, input| Rule::Arith { out, input };
    match op {
        O::F32Add
        | O::F32Sub
        | O::F32Mul
        | O::F32Div
        | O::F32Min
        | O::F32Max
        | O::F32Sqrt
        | O::F32Ceil
        | O::F32Floor
        | O::F32Trunc
        | O::F32Nearest => arith(F32, F32),
        O::F64Add
        | O::F64Sub
        | O::F64Mul
        | O::F64Div
        | O::F64Min
        | O::F64Max
        | O::F64Sqrt
        | O::F64Ceil
        | O::F64Floor
        | O::F64Trunc
        | O::F64Nearest => arith(F64, F64),
        O::F32DemoteF64 => arith(F32, F64),
        O::F64PromoteF32 => arith(F64, F32),
        O::F32x4Add
        | O::F32x4Sub
        | O::F32x4Mul
        | O::F32x4Div
        | O::F32x4Min
        | O::F32x4Max
        | O::F32x4Sqrt
        | O::F32x4Ceil
        | O::F32x4Floor
        | O::F32x4Trunc
        | O::F32x4Nearest
        | O::F32x4RelaxedMadd
        | O::F32x4RelaxedNmadd
        | O::F32x4RelaxedMin
        | O::F32x4RelaxedMax => arith(F32x4, F32x4),
        O::F64x2Add
        | O::F64x2Sub
        | O::F64x2Mul
        | O::F64x2Div
        | O::F64x2Min
        | O::F64x2Max
        | O::F64x2Sqrt
        | O::F64x2Ceil
        | O::F64x2Floor
        | O::F64x2Trunc
        | O::F64x2Nearest
        | O::F64x2RelaxedMadd
        | O::F64x2RelaxedNmadd
        | O::F64x2RelaxedMin
        | O::F64x2RelaxedMax => arith(F64x2, F64x2),
        O::F32x4DemoteF64x2Zero => arith(F32x4, F64x2),
        O::F64x2PromoteLowF32x4 => arith(F64x2, F32x4),

        O::F32Abs | O::F32Neg => Rule::Join {
            out: F32,
            inputs: &[F32],
        },
        O::F64Abs | O::F64Neg => Rule::Join {
            out: F64,
            inputs: &[F64],
        },
        O::F32x4Abs | O::F32x4Neg => Rule::Join {
            out: F32x4,
            inputs: &[F32x4],
        },
        O::F64x2Abs | O::F64x2Neg => Rule::Join {
            out: F64x2,
            inputs: &[F64x2],
        },
        O::F32x4PMin | O::F32x4PMax => Rule::Join {
            out: F32x4,
            inputs: &[F32x4, F32x4],
        },
        O::F64x2PMin | O::F64x2PMax => Rule::Join {
            out: F64x2,
            inputs: &[F64x2, F64x2],
        },
        O::F32x4Splat => Rule::Join {
            out: F32x4,
            inputs: &[F32],
        },
        O::F64x2Splat => Rule::Join {
            out: F64x2,
            inputs: &[F64],
        },
        O::F32x4ExtractLane { .. } => Rule::Join {
            out: F32,
            inputs: &[F32x4],
        },
        O::F64x2ExtractLane { .. } => Rule::Join {
            out: F64,
            inputs: &[F64x2],
        },
        O::F32x4ReplaceLane { .. } => Rule::Join {
            out: F32x4,
            inputs: &[F32x4, F32],
        },
        O::F64x2ReplaceLane { .. } => Rule::Join {
            out: F64x2,
            inputs: &[F64x2, F64],
        },
        O::F32Copysign => Rule::CopySign(F32),
        O::F64Copysign => Rule::CopySign(F64),

        O::F32Eq
        | O::F32Ne
        | O::F32Lt
        | O::F32Gt
        | O::F32Le
        | O::F32Ge
        | O::F64Eq
        | O::F64Ne
        | O::F64Lt
        | O::F64Gt
        | O::F64Le
        | O::F64Ge
        | O::F32x4Eq
        | O::F32x4Ne
        | O::F32x4Lt
        | O::F32x4Gt
        | O::F32x4Le
        | O::F32x4Ge
        | O::F64x2Eq
        | O::F64x2Ne
        | O::F64x2Lt
        | O::F64x2Gt
        | O::F64x2Le
        | O::F64x2Ge
        | O::I32TruncF32S
        | O::I32TruncF32U
        | O::I32TruncF64S
        | O::I32TruncF64U
        | O::I64TruncF32S
        | O::I64TruncF32U
        | O::I64TruncF64S
        | O::I64TruncF64U
        | O::I32TruncSatF32S
        | O::I32TruncSatF32U
        | O::I32TruncSatF64S
        | O::I32TruncSatF64U
        | O::I64TruncSatF32S
        | O::I64TruncSatF32U
        | O::I64TruncSatF64S
        | O::I64TruncSatF64U
        | O::I32x4TruncSatF32x4S
        | O::I32x4TruncSatF32x4U
        | O::I32x4TruncSatF64x2SZero
        | O::I32x4TruncSatF64x2UZero
        | O::I32x4RelaxedTruncF32x4S
        | O::I32x4RelaxedTruncF32x4U
        | O::I32x4RelaxedTruncF64x2SZero
        | O::I32x4RelaxedTruncF64x2UZero
        | O::Drop => Rule::Ignore,

        // (Not the SIMD conversions: an integer converted to f64 can look
        // like a NaN when its bits are read as f32 lanes.)
        O::F32ConvertI32S
        | O::F32ConvertI32U
        | O::F32ConvertI64S
        | O::F32ConvertI64U
        | O::F64ConvertI32S
        | O::F64ConvertI32U
        | O::F64ConvertI64S
        | O::F64ConvertI64U => Rule::SafeResult,

        O::F32Const { value } => Rule::Const(!f32::from_bits(value.bits()).is_nan()),
        O::F64Const { value } => Rule::Const(!f64::from_bits(value.bits()).is_nan()),
        O::V128Const { value } => Rule::Const(v128_is_safe(value.i128() as u128)),
        O::Select | O::TypedSelect { .. } => Rule::Select,
        O::I8x16Shuffle { lanes } => shuffle(lanes),
        _ => Rule::Observe,
    }
}

/// The [`Rule::Shuffle`] of `lanes` (byte `i` of the result is byte
/// `lanes[i]` of the two operands, concatenated).
fn shuffle(lanes: &[u8; 16]) -> Rule {
    let moves = |g: usize| {
        lanes.chunks(g).all(|group| {
            let first = group[0] as usize;
            first.is_multiple_of(g)
                && group
                    .iter()
                    .enumerate()
                    .all(|(i, &l)| l as usize == first + i)
        })
    };
    let granule = [8u8, 4]
        .into_iter()
        .find(|&g| moves(g as usize))
        .unwrap_or(1);
    Rule::Shuffle {
        granule,
        uses: [
            lanes.iter().any(|&l| l < 16),
            lanes.iter().any(|&l| l >= 16),
        ],
    }
}

impl Shape {
    /// The size of one lane (or the scalar), in bytes.
    pub fn lane_bytes(self) -> u8 {
        match self {
            Shape::F32 | Shape::F32x4 => 4,
            Shape::F64 | Shape::F64x2 => 8,
        }
    }
}

/// Whether a `v128` has no NaN when read as four `f32` or two `f64`.
fn v128_is_safe(bits: u128) -> bool {
    let f32_nan = (0..4).any(|i| f32::from_bits((bits >> (32 * i)) as u32).is_nan());
    let f64_nan = (0..2).any(|i| f64::from_bits((bits >> (64 * i)) as u64).is_nan());
    !f32_nan && !f64_nan
}

/// The canonical NaN's bits for each shape: positive, quiet, zero payload
/// (WebAssembly's canonical NaN, the one wasmtime's own canonicalisation
/// produces).
pub fn canonical_nan(shape: Shape) -> u128 {
    const F32: u128 = 0x7fc0_0000;
    const F64: u128 = 0x7ff8_0000_0000_0000;
    match shape {
        Shape::F32 => F32,
        Shape::F64 => F64,
        Shape::F32x4 => F32 | F32 << 32 | F32 << 64 | F32 << 96,
        Shape::F64x2 => F64 | F64 << 64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_one_dirty_shape_and_fixes_mixtures() {
        let d = Kind::Dirty(Shape::F64x2);
        assert_eq!(Kind::Safe.join(d), d);
        assert_eq!(d.join(d), d);
        assert_eq!(d.join(Kind::Dirty(Shape::F32x4)), Kind::Det);
        assert_eq!(d.join(Kind::Det), Kind::Det);
        assert_eq!(Kind::Safe.join(Kind::Safe), Kind::Safe);
    }

    #[test]
    fn shuffles_know_which_lanes_they_move() {
        let mut lanes: [u8; 16] = std::array::from_fn(|i| i as u8);
        // The high f64 of the first operand, then the low one of the second.
        lanes[..8].copy_from_slice(&[8, 9, 10, 11, 12, 13, 14, 15]);
        lanes[8..].copy_from_slice(&[16, 17, 18, 19, 20, 21, 22, 23]);
        assert_eq!(
            shuffle(&lanes),
            Rule::Shuffle {
                granule: 8,
                uses: [true, true]
            }
        );
        // f32 lanes of the second operand only.
        let lanes = [
            20, 21, 22, 23, 16, 17, 18, 19, 28, 29, 30, 31, 24, 25, 26, 27,
        ];
        assert_eq!(
            shuffle(&lanes),
            Rule::Shuffle {
                granule: 4,
                uses: [false, true]
            }
        );
        // Bytes out of order.
        let lanes = [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        assert_eq!(
            shuffle(&lanes),
            Rule::Shuffle {
                granule: 1,
                uses: [true, false]
            }
        );
    }

    #[test]
    fn v128_constants_with_a_nan_in_any_reading_are_not_safe() {
        assert!(v128_is_safe(0));
        assert!(v128_is_safe(
            1.5f64.to_bits() as u128 | (2.5f64.to_bits() as u128) << 64
        ));
        assert!(!v128_is_safe(canonical_nan(Shape::F32x4)));
        assert!(!v128_is_safe(canonical_nan(Shape::F64x2)));
        // All ones is a NaN in both readings (an integer mask, say).
        assert!(!v128_is_safe(u128::MAX));
    }
}
