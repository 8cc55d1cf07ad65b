//! The code the rewrite inserts: canonicalising sequences and the scratch
//! locals they need.

use std::collections::HashMap;

use wasm_encoder::{Ieee32, Ieee64, Instruction};
use wasmparser::ValType;

use super::kind::{Shape, canonical_nan};

/// The code inserted into one function.
#[derive(Default)]
pub struct Emit {
    /// (index of the original instruction it goes before, code), in the
    /// order it was produced.
    pub inserted: Vec<(usize, Vec<Ins>)>,
    /// The types of the scratch locals added, in order.
    pub temp_types: Vec<ValType>,
    temps: HashMap<(ValType, u32), u32>,
}

impl Emit {
    /// The `n`-th scratch local of type `ty`.
    pub fn temp(&mut self, ty: ValType, n: u32) -> Local {
        let next = self.temp_types.len() as u32;
        Local::Temp(*self.temps.entry((ty, n)).or_insert_with(|| {
            self.temp_types.push(ty);
            next
        }))
    }

    /// Adds `code` before instruction `at`.
    pub fn before(&mut self, at: usize, code: Vec<Ins>) {
        if !code.is_empty() {
            self.inserted.push((at, code));
        }
    }

    /// The inserted code by instruction, in instruction order (code for
    /// the same instruction stays in the order it was added).
    pub fn sorted(mut self) -> Vec<(usize, Vec<Ins>)> {
        self.inserted.sort_by_key(|(at, _)| *at);
        self.inserted
    }
}

/// A local the inserted code uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Local {
    /// One of the function's own locals.
    Own(u32),
    /// A scratch local the rewrite adds, numbered from the first one.
    Temp(u32),
}

/// An inserted instruction.
#[derive(Clone, Copy, Debug)]
pub enum Ins {
    /// `local.get`.
    Get(Local),
    /// `local.set`.
    Set(Local),
    /// The canonical NaN of a shape.
    Const(Shape),
    /// Lane-wise equality in a shape.
    Eq(Shape),
    /// `select` (scalars) or `v128.bitselect` (vectors).
    Select(Shape),
}

impl Ins {
    /// The instruction, with scratch locals numbered from `first_temp`.
    pub fn encode(self, first_temp: u32) -> Instruction<'static> {
        let index = |local| match local {
            Local::Own(i) => i,
            Local::Temp(t) => first_temp + t,
        };
        match self {
            Ins::Get(l) => Instruction::LocalGet(index(l)),
            Ins::Set(l) => Instruction::LocalSet(index(l)),
            Ins::Const(shape) => {
                let bits = canonical_nan(shape);
                match shape {
                    Shape::F32 => Instruction::F32Const(Ieee32::new(bits as u32)),
                    Shape::F64 => Instruction::F64Const(Ieee64::new(bits as u64)),
                    Shape::F32x4 | Shape::F64x2 => Instruction::V128Const(bits as i128),
                }
            }
            Ins::Eq(Shape::F32) => Instruction::F32Eq,
            Ins::Eq(Shape::F64) => Instruction::F64Eq,
            Ins::Eq(Shape::F32x4) => Instruction::F32x4Eq,
            Ins::Eq(Shape::F64x2) => Instruction::F64x2Eq,
            Ins::Select(Shape::F32 | Shape::F64) => Instruction::Select,
            Ins::Select(Shape::F32x4 | Shape::F64x2) => Instruction::V128Bitselect,
        }
    }
}

/// Pushes the value of `local`, canonical: the value where it equals itself
/// (not NaN), the canonical NaN elsewhere.
pub fn canonical_from(local: Local, shape: Shape) -> [Ins; 6] {
    [
        Ins::Get(local),
        Ins::Const(shape),
        Ins::Get(local),
        Ins::Get(local),
        Ins::Eq(shape),
        Ins::Select(shape),
    ]
}

/// Canonicalises one of the function's own locals in place.
pub fn canonicalise_local(index: u32, shape: Shape) -> impl Iterator<Item = Ins> {
    canonical_from(Local::Own(index), shape)
        .into_iter()
        .chain([Ins::Set(Local::Own(index))])
}
