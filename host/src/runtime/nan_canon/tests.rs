//! The rewrite run for real: small modules built here, compiled by
//! wasmtime without its own canonicalisation, before and after the rewrite;
//! and every test guest rewritten and validated.

use wasm_encoder::{
    BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction as I,
    MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wasmtime::{Engine, Instance, Store};

use super::canonicalize_nans;

const CANONICAL: u64 = 0x7ff8_0000_0000_0000;
/// R's NA: a NaN whose payload is data.
const NA: u64 = 0x7ff0_0000_0000_07a2;

/// A module exporting one function `f` of type `(i32, i64, f64, f64) ->
/// i64` with `locals` and `body`, and a page of memory.
fn module(locals: &[ValType], body: &[I<'static>]) -> Vec<u8> {
    let params = [ValType::I32, ValType::I64, ValType::F64, ValType::F64];
    module_of(&params, &[ValType::I64], locals, body)
}

/// A module exporting one function `f` (`params -> results`, with
/// `locals` and `body`) and its page of memory, `mem`.
fn module_of(
    params: &[ValType],
    results: &[ValType],
    locals: &[ValType],
    body: &[I<'static>],
) -> Vec<u8> {
    let mut types = TypeSection::new();
    types
        .ty()
        .function(params.iter().copied(), results.iter().copied());
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("f", ExportKind::Func, 0);
    exports.export("mem", ExportKind::Memory, 0);
    let mut code = CodeSection::new();
    let mut f = Function::new_with_locals_types(locals.iter().copied());
    for ins in body {
        f.instruction(ins);
    }
    f.instruction(&I::End);
    code.function(&f);
    let mut m = Module::new();
    m.section(&types)
        .section(&functions)
        .section(&memories)
        .section(&exports)
        .section(&code);
    m.finish()
}

/// Calls `f(c, x, a, b)` of `wasm`.
fn call(wasm: &[u8], c: i32, x: u64, a: f64, b: f64) -> u64 {
    let engine = Engine::default();
    let module = wasmtime::Module::new(&engine, wasm).expect("compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance
        .get_typed_func::<(i32, i64, f64, f64), i64>(&mut store, "f")
        .expect("f");
    f.call(&mut store, (c, x as i64, a, b)).expect("runs") as u64
}

/// `f` before and after the rewrite.
fn both(body: &[I<'static>], locals: &[ValType], c: i32, x: u64, a: f64, b: f64) -> (u64, u64) {
    let wasm = module(locals, body);
    let rewritten = canonicalize_nans(&wasm).expect("rewrites");
    (call(&wasm, c, x, a, b), call(&rewritten, c, x, a, b))
}

#[test]
fn a_nan_made_by_arithmetic_is_canonical_where_it_is_seen() {
    let body = [
        I::LocalGet(2),
        I::LocalGet(3),
        I::F64Div,
        I::I64ReinterpretF64,
    ];
    let (before, after) = both(&body, &[], 0, 0, 0.0, 0.0);
    assert_eq!(after, CANONICAL);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(before, 0xfff8_0000_0000_0000, "x86 makes a negative NaN");
    }
    // Numbers are untouched.
    assert_eq!(both(&body, &[], 0, 0, 1.0, 4.0).1, 0.25f64.to_bits());
}

#[test]
fn a_copied_nan_keeps_its_payload() {
    // Through a float local and memory: no arithmetic, no canonicalisation.
    let body = [
        I::I32Const(0),
        I::LocalGet(1),
        I::F64ReinterpretI64,
        I::F64Store(wasm_encoder::MemArg {
            offset: 0,
            align: 3,
            memory_index: 0,
        }),
        I::I32Const(0),
        I::F64Load(wasm_encoder::MemArg {
            offset: 0,
            align: 3,
            memory_index: 0,
        }),
        I::LocalTee(4),
        I::LocalGet(4),
        I::F64Neg,
        I::F64Neg,
        I::Drop,
        I::I64ReinterpretF64,
    ];
    assert_eq!(both(&body, &[ValType::F64], 0, NA, 0.0, 0.0), (NA, NA));
}

#[test]
fn a_local_holding_data_on_one_way_and_a_nan_on_the_other() {
    // t = c ? reinterpret(x) : a / b; return bits(t).
    let body = [
        I::LocalGet(0),
        I::If(BlockType::Empty),
        I::LocalGet(1),
        I::F64ReinterpretI64,
        I::LocalSet(4),
        I::Else,
        I::LocalGet(2),
        I::LocalGet(3),
        I::F64Div,
        I::LocalSet(4),
        I::End,
        I::LocalGet(4),
        I::I64ReinterpretF64,
    ];
    let locals = [ValType::F64];
    assert_eq!(both(&body, &locals, 1, NA, 0.0, 0.0).1, NA, "data kept");
    assert_eq!(both(&body, &locals, 0, NA, 0.0, 0.0).1, CANONICAL);
}

#[test]
fn a_nan_carried_round_a_loop_and_out_of_a_block() {
    // t = a; loop { x = bits(t); t = t / b; if --c != 0 continue };
    // x ^ bits(block (result f64) { t }): the bits seen at the head of
    // the last trip, and those carried out of a block.
    let body = [
        I::LocalGet(2),
        I::LocalSet(4),
        I::Loop(BlockType::Empty),
        I::LocalGet(4),
        I::I64ReinterpretF64,
        I::LocalSet(1),
        I::LocalGet(4),
        I::LocalGet(3),
        I::F64Div,
        I::LocalSet(4),
        I::LocalGet(0),
        I::I32Const(1),
        I::I32Sub,
        I::LocalTee(0),
        I::BrIf(0),
        I::End,
        I::LocalGet(1),
        I::Block(BlockType::Result(ValType::F64)),
        I::LocalGet(4),
        I::End,
        I::I64ReinterpretF64,
        I::I64Xor,
    ];
    let locals = [ValType::F64];
    // Both NaNs canonical: they cancel out.
    assert_eq!(both(&body, &locals, 3, 0, 0.0, 0.0).1, 0);
    // The NaN that went round the loop: on x86 it is negative until
    // canonicalised on the way back to the loop's head.
    let (before, after) = both(&body[..body.len() - 5], &locals, 3, 0, 0.0, 0.0);
    assert_eq!(after, CANONICAL);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(before, 0xfff8_0000_0000_0000);
    }
    assert_eq!(
        both(&body, &locals, 3, 0, 8.0, 2.0).1,
        2.0f64.to_bits() ^ 1.0f64.to_bits()
    );
}

#[test]
fn simd_lanes_seen_as_integers_are_canonical() {
    let body = [
        I::LocalGet(2),
        I::F64x2Splat,
        I::LocalGet(3),
        I::F64x2Splat,
        I::F64x2Div,
        I::LocalTee(4),
        I::LocalGet(4),
        I::I8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]),
        I::I64x2ExtractLane(0),
    ];
    let (before, after) = both(&body, &[ValType::V128], 0, 0, 0.0, 0.0);
    assert_eq!(after, CANONICAL);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(before, 0xfff8_0000_0000_0000);
    }
}

#[test]
fn f32_lanes_read_as_f64_are_canonicalised_and_so_is_the_result() {
    // f32x4.splat(a / b as f32) read as f64 lanes: its NaN bits become
    // part of a (finite) f64, so they are canonicalised first.
    let lanes = [
        I::LocalGet(2),
        I::F32DemoteF64,
        I::LocalGet(3),
        I::F32DemoteF64,
        I::F32Div,
        I::F32x4Splat,
    ];
    let mut body = lanes.to_vec();
    body.extend([I::V128Const(0), I::F64x2Add, I::I64x2ExtractLane(0)]);
    let (before, after) = both(&body, &[], 0, 0, 0.0, 0.0);
    assert_eq!(after, 0x7fc0_0000_7fc0_0000);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(before, 0xffc0_0000_ffc0_0000);
    }
    // And the sum with an f64 NaN is itself a NaN to canonicalise.
    let mut body = lanes.to_vec();
    body.extend([
        I::LocalGet(2),
        I::LocalGet(3),
        I::F64Div,
        I::F64x2Splat,
        I::F64x2Add,
        I::I64x2ExtractLane(0),
    ]);
    assert_eq!(both(&body, &[], 0, 0, 0.0, 0.0).1, CANONICAL);
}

#[test]
fn every_test_guest_rewrites_to_a_valid_component() {
    macro_rules! check {
        ($name:ident) => {
            let path = djx_fixtures::$name;
            let wasm = std::fs::read(path).expect("guest");
            let out = canonicalize_nans(&wasm).unwrap_or_else(|e| panic!("{path}: {e}"));
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&out)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        };
    }
    check!(IRIS_EXAMPLE);
    check!(FLOPS);
    check!(NANS);
    check!(SANDBOX);
    check!(ROUNDTRIP);
    check!(BOOKKEEPING);
}

/// Random programs: the rewrite changes no bit the program stores except
/// NaNs, and every NaN it stores is the canonical one.
mod random_programs {
    use wasm_encoder::{BlockType, Instruction as I, MemArg, ValType};
    use wasmtime::{Engine, Instance, Store};

    use super::{CANONICAL, canonicalize_nans, module_of};

    /// The observation slots: 8 bytes each.
    const SLOTS: u64 = 64;
    /// Parameters 0..3 are f64; locals 3..7 f64, 7..10 the i32 counters of
    /// loops at each depth, 10 a v128.
    const F64_LOCALS: std::ops::Range<u32> = 3..7;
    const COUNTERS: u32 = 7;
    const V128: u32 = 10;

    /// SplitMix64, for reproducible programs.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn mem(offset: u64) -> MemArg {
        MemArg {
            offset,
            align: 3,
            memory_index: 0,
        }
    }

    /// Pushes code that leaves one f64 on the stack.
    fn expr(rng: &mut Rng, depth: u32, out: &mut Vec<I<'static>>) {
        let leaf = depth == 0 || rng.below(3) == 0;
        if leaf {
            match rng.below(3) {
                0 => out.push(I::LocalGet(rng.below(3) as u32)),
                1 => out.push(I::LocalGet(
                    F64_LOCALS.start + rng.below(F64_LOCALS.len() as u64) as u32,
                )),
                _ => {
                    let values = [0.0, -0.0, 1.0, -1.5, f64::INFINITY, f64::NEG_INFINITY];
                    out.push(I::F64Const(values[rng.below(6) as usize].into()));
                }
            }
            return;
        }
        match rng.below(6) {
            0 | 1 => {
                expr(rng, depth - 1, out);
                expr(rng, depth - 1, out);
                let ops = [
                    I::F64Add,
                    I::F64Sub,
                    I::F64Mul,
                    I::F64Div,
                    I::F64Min,
                    I::F64Max,
                ];
                out.push(ops[rng.below(6) as usize].clone());
            }
            2 => {
                expr(rng, depth - 1, out);
                let ops = [
                    I::F64Sqrt,
                    I::F64Neg,
                    I::F64Abs,
                    I::F64Ceil,
                    I::F64Floor,
                    I::F64Nearest,
                ];
                out.push(ops[rng.below(6) as usize].clone());
            }
            3 => {
                // Through f64x2 lanes, maybe swapped by a shuffle.
                expr(rng, depth - 1, out);
                out.push(I::F64x2Splat);
                expr(rng, depth - 1, out);
                out.push(I::F64x2ReplaceLane(1));
                expr(rng, depth - 1, out);
                out.push(I::F64x2Splat);
                let ops = [I::F64x2Add, I::F64x2Mul, I::F64x2Div, I::F64x2Sub];
                out.push(ops[rng.below(4) as usize].clone());
                if rng.below(2) == 0 {
                    out.push(I::LocalTee(V128));
                    out.push(I::LocalGet(V128));
                    out.push(I::I8x16Shuffle([
                        8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                    ]));
                }
                out.push(I::F64x2ExtractLane(rng.below(2) as u8));
            }
            4 => {
                // f32 and back.
                expr(rng, depth - 1, out);
                out.push(I::F32DemoteF64);
                out.push(I::F64PromoteF32);
            }
            _ => {
                expr(rng, depth - 1, out);
                expr(rng, depth - 1, out);
                out.push(I::LocalGet(0));
                out.push(I::LocalGet(1));
                out.push(I::F64Lt);
                out.push(I::Select);
            }
        }
    }

    /// Pushes statements (nothing left on the stack).
    fn statements(rng: &mut Rng, depth: u32, out: &mut Vec<I<'static>>) {
        for _ in 0..1 + rng.below(4) {
            match rng.below(if depth == 0 { 3 } else { 5 }) {
                0 => {
                    expr(rng, 3, out);
                    out.push(I::LocalSet(
                        F64_LOCALS.start + rng.below(F64_LOCALS.len() as u64) as u32,
                    ));
                }
                1 => {
                    out.push(I::I32Const(0));
                    expr(rng, 3, out);
                    out.push(I::F64Store(mem(8 * rng.below(SLOTS))));
                }
                2 => {
                    out.push(I::I32Const(0));
                    expr(rng, 3, out);
                    out.push(I::I64ReinterpretF64);
                    out.push(I::I64Store(mem(8 * rng.below(SLOTS))));
                }
                3 => {
                    out.push(I::LocalGet(2));
                    out.push(I::LocalGet(1));
                    out.push(I::F64Lt);
                    out.push(I::If(BlockType::Empty));
                    statements(rng, depth - 1, out);
                    if rng.below(2) == 0 {
                        out.push(I::Else);
                        statements(rng, depth - 1, out);
                    }
                    out.push(I::End);
                }
                _ => {
                    // Three trips, with a counter of this depth's own.
                    let counter = COUNTERS + depth;
                    out.push(I::I32Const(3));
                    out.push(I::LocalSet(counter));
                    out.push(I::Loop(BlockType::Empty));
                    statements(rng, depth - 1, out);
                    out.push(I::LocalGet(counter));
                    out.push(I::I32Const(1));
                    out.push(I::I32Sub);
                    out.push(I::LocalTee(counter));
                    out.push(I::BrIf(0));
                    out.push(I::End);
                }
            }
        }
    }

    /// A module exporting `f(a, b, c)` and its memory.
    fn program(seed: u64) -> Vec<u8> {
        let mut rng = Rng(seed);
        let mut body = Vec::new();
        statements(&mut rng, 2, &mut body);
        // Last, every local is seen.
        for (i, local) in F64_LOCALS.enumerate() {
            body.push(I::I32Const(0));
            body.push(I::LocalGet(local));
            body.push(I::F64Store(mem(8 * (SLOTS + i as u64))));
        }
        let mut locals = vec![ValType::F64; F64_LOCALS.len()];
        locals.extend([ValType::I32; 3]);
        locals.push(ValType::V128);
        module_of(&[ValType::F64; 3], &[], &locals, &body)
    }

    /// The observation slots after `f(args)`.
    fn observe(engine: &Engine, wasm: &[u8], args: (f64, f64, f64)) -> Vec<u64> {
        let module = wasmtime::Module::new(engine, wasm).expect("compiles");
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
        let f = instance
            .get_typed_func::<(f64, f64, f64), ()>(&mut store, "f")
            .expect("f");
        f.call(&mut store, args).expect("runs");
        let memory = instance.get_memory(&mut store, "mem").expect("memory");
        let bytes = &memory.data(&store)[..8 * (SLOTS as usize + 4)];
        bytes
            .chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    }

    #[test]
    fn only_nans_change_and_every_stored_nan_is_canonical() {
        let engine = Engine::default();
        let args = [
            (0.0, 0.0, 1.0),
            (f64::INFINITY, 1.0, -1.0),
            (-1.0, 2.5, f64::NEG_INFINITY),
        ];
        let mut nans = 0;
        for seed in 0..150 {
            let wasm = program(seed);
            let rewritten = canonicalize_nans(&wasm).expect("rewrites");
            for &a in &args {
                let before = observe(&engine, &wasm, a);
                let after = observe(&engine, &rewritten, a);
                for (slot, (&b, &n)) in before.iter().zip(&after).enumerate() {
                    if f64::from_bits(b).is_nan() {
                        nans += 1;
                        assert_eq!(n, CANONICAL, "program {seed}, {a:?}, slot {slot}");
                    } else {
                        assert_eq!(n, b, "program {seed}, {a:?}, slot {slot}");
                    }
                }
            }
        }
        assert!(nans > 100, "the programs made few NaNs: {nans}");
    }
}
