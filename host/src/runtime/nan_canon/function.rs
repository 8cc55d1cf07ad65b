//! The rewrite of one function body.
//!
//! The body is walked with wasmparser's validator alongside, which knows
//! every operand's type and every instruction's arity; a shadow stack holds
//! each operand's [`Kind`], and a vector each local's. The walk repeats
//! until what it knows at every label stops changing (loops feed their
//! heads), then runs once more to insert the code.

use wasm_encoder::Function;
use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasmparser::{FuncToValidate, FuncValidator, FunctionBody, Operator, ValidatorResources};

use super::RewriteError;
use super::emit::{Emit, Ins, canonical_from, canonicalise_local};
use super::kind::{Kind, Rule, rule};
use super::labels::{Labels, join_into, to_canonicalise};
use super::operands::{Canon, effect};

type Error = ReencodeError<RewriteError>;

/// More passes than any real function needs: each pass that does not
/// finish makes at least one local at one label less precise, so a
/// function converges long before; this only guards against a bug.
const MAX_PASSES: usize = 1000;

/// Rewrites `body`, whose validation state is `func`.
pub fn rewrite<R: Reencode<Error = RewriteError>>(
    re: &mut R,
    body: &FunctionBody<'_>,
    func: &FuncToValidate<ValidatorResources>,
) -> Result<Function, Error> {
    let Scan { arithmetic, eager } = scan(body)?;
    if !arithmetic {
        // No float arithmetic, so no value is ever dirty: nothing to add.
        return assemble(re, body, Emit::default(), 0);
    }
    let mut labels = Labels::default();
    for _ in 0..MAX_PASSES {
        let next = Walk::new(body, func, &labels, eager, None)?.run()?;
        if next == labels {
            let mut emit = Emit::default();
            let walk = Walk::new(body, func, &labels, eager, Some(&mut emit))?;
            let first_temp = walk.validator.len_locals();
            walk.run()?;
            return assemble(re, body, emit, first_temp);
        }
        labels = next;
    }
    Err(ReencodeError::UserError(RewriteError(format!(
        "function {}: the analysis did not settle",
        func.index
    ))))
}

/// The function: its locals plus the scratch ones, its instructions with
/// the inserted code before them.
fn assemble<R: Reencode<Error = RewriteError>>(
    re: &mut R,
    body: &FunctionBody<'_>,
    emit: Emit,
    first_temp: u32,
) -> Result<Function, Error> {
    let mut types = Vec::new();
    for pair in body.get_locals_reader()? {
        let (count, ty) = pair?;
        let ty = re.val_type(ty)?;
        types.extend(std::iter::repeat_n(ty, count as usize));
    }
    for &ty in &emit.temp_types {
        types.push(re.val_type(ty)?);
    }
    let mut function = Function::new_with_locals_types(types);
    let mut inserted = emit.sorted().into_iter().peekable();
    let mut reader = body.get_operators_reader()?;
    let mut at = 0;
    while !reader.eof() {
        while let Some((_, code)) = inserted.next_if(|(before, _)| *before == at) {
            for ins in code {
                function.instruction(&ins.encode(first_temp));
            }
        }
        function.instruction(&re.instruction(reader.read()?)?);
        at += 1;
    }
    Ok(function)
}

/// What a first look at a body finds.
struct Scan {
    /// Whether it has float arithmetic (where dirty values come from).
    arithmetic: bool,
    /// Whether it transfers control in ways the walk does not follow
    /// (exceptions, typed-reference branches, stack switching). Such a
    /// function keeps no dirty value in a local: each is canonicalised as it
    /// is stored.
    eager: bool,
}

fn scan(body: &FunctionBody<'_>) -> Result<Scan, Error> {
    use Operator as O;
    let mut found = Scan {
        arithmetic: false,
        eager: false,
    };
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let op = reader.read()?;
        found.arithmetic |= matches!(rule(&op), Rule::Arith { .. });
        found.eager |= matches!(
            op,
            O::Try { .. }
                | O::TryTable { .. }
                | O::Catch { .. }
                | O::CatchAll
                | O::Delegate { .. }
                | O::Throw { .. }
                | O::ThrowRef
                | O::Rethrow { .. }
                | O::BrOnNull { .. }
                | O::BrOnNonNull { .. }
                | O::BrOnCast { .. }
                | O::BrOnCastFail { .. }
                | O::Resume { .. }
                | O::ResumeThrow { .. }
                | O::Suspend { .. }
                | O::Switch { .. }
        );
    }
    Ok(found)
}

/// What opened a control frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opener {
    Function,
    Block,
    Loop,
    If,
}

/// A control frame of the walk.
struct Frame {
    opener: Opener,
    /// The index of the opening instruction: the label's key.
    start: usize,
    /// The locals where the frame was entered (an `if`'s `else` starts
    /// from here).
    entry: Vec<Kind>,
    has_else: bool,
}

/// One pass over a body.
struct Walk<'a, 'b> {
    body: &'a FunctionBody<'a>,
    validator: FuncValidator<ValidatorResources>,
    /// What the previous pass knew at each label.
    known: &'b Labels,
    /// What this pass learns (starting from `known`, only ever growing).
    next: Labels,
    /// Whether locals are kept canonical ([`Scan::eager`]).
    eager: bool,
    /// The kind of each operand on the stack (the validator's heights).
    stack: Vec<Kind>,
    /// The kind of each local here.
    locals: Vec<Kind>,
    frames: Vec<Frame>,
    /// Where the inserted code goes; `None` while analysing.
    emit: Option<&'b mut Emit>,
}

impl<'a, 'b> Walk<'a, 'b> {
    fn new(
        body: &'a FunctionBody<'a>,
        func: &FuncToValidate<ValidatorResources>,
        known: &'b Labels,
        eager: bool,
        emit: Option<&'b mut Emit>,
    ) -> Result<Self, Error> {
        let func = FuncToValidate {
            resources: func.resources.clone(),
            index: func.index,
            ty: func.ty,
            features: func.features,
        };
        let mut validator = func.into_validator(Default::default());
        let mut declared = 0;
        let mut reader = body.get_locals_reader()?;
        for _ in 0..reader.get_count() {
            let offset = reader.original_position();
            let (count, ty) = reader.read()?;
            validator.define_locals(offset, count, ty)?;
            declared += count;
        }
        // Parameters hold whatever the caller passed; declared locals start
        // at zero.
        let params = validator.len_locals() - declared;
        let locals = (0..validator.len_locals())
            .map(|i| if i < params { Kind::Det } else { Kind::Safe })
            .collect::<Vec<_>>();
        Ok(Walk {
            body,
            validator,
            known,
            next: known.clone(),
            eager,
            stack: Vec::new(),
            frames: vec![Frame {
                opener: Opener::Function,
                start: usize::MAX,
                entry: locals.clone(),
                has_else: false,
            }],
            locals,
            emit,
        })
    }

    /// Walks the body; returns what it learnt about the labels.
    fn run(mut self) -> Result<Labels, Error> {
        let mut reader = self.body.get_operators_reader()?;
        let mut at = 0;
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read()?;
            let (reachable, frame_height) = match self.validator.get_control_frame(0) {
                Some(frame) => (!frame.unreachable, frame.height),
                None => return Err(unsupported(offset)),
            };
            let (pops, _) = op
                .operator_arity(&self.validator)
                .ok_or_else(|| unsupported(offset))?;
            let height = self.validator.operand_stack_height() as usize;
            // Where the instruction's operands start. Unreachable code can
            // pop operands that are not there, but never below its frame.
            let base = height.saturating_sub(pops as usize).max(frame_height);
            let mut result = Kind::Det;
            if reachable {
                let operands = &self.stack[base.min(self.stack.len())..];
                let (canon, kind) = self.operand_effect(&op, operands)?;
                self.canonicalise_operands(&canon, at)?;
                result = kind;
                self.control(&op, at, result)?;
            } else {
                self.control_unreachable(&op, at);
            }
            self.validator.op(offset, &op)?;
            // The results: exactly one keeps the kind decided above; several
            // (calls, blocks) are fixed, as are the block parameters that
            // stay on the stack across `if`/`else` (canonicalised above).
            let height = self.validator.operand_stack_height() as usize;
            if height >= base {
                self.stack.truncate(base);
                let pushes = height - base;
                let kind = if pushes == 1 && reachable {
                    result
                } else {
                    Kind::Det
                };
                self.stack.resize(height, kind);
            } else {
                self.stack.truncate(height);
            }
            at += 1;
        }
        Ok(self.next)
    }

    /// The operands to canonicalise before `op` and the kind of its result.
    fn operand_effect(&self, op: &Operator<'_>, operands: &[Kind]) -> Result<(Canon, Kind), Error> {
        Ok(match op {
            Operator::LocalGet { local_index } => {
                let kind = self.local(*local_index)?;
                (Vec::new(), if self.eager { Kind::Det } else { kind })
            }
            Operator::LocalSet { .. } | Operator::LocalTee { .. } => {
                let value = operands.last().copied().unwrap_or(Kind::Det);
                match value {
                    Kind::Dirty(shape) if self.eager => (vec![(0, shape)], Kind::Det),
                    _ => (Vec::new(), value),
                }
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let select_type = self.validator.get_operand_type(1).flatten();
                effect(op, operands, select_type)
            }
            _ => effect(op, operands, None),
        })
    }

    fn local(&self, index: u32) -> Result<Kind, Error> {
        self.locals
            .get(index as usize)
            .copied()
            .ok_or_else(|| unsupported(index as usize))
    }

    /// Follows `op`'s effect on the locals and the labels (reachable code;
    /// `value` is the kind of what a `local.set`/`local.tee` stores).
    fn control(&mut self, op: &Operator<'_>, at: usize, value: Kind) -> Result<(), Error> {
        match *op {
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                if let Some(local) = self.locals.get_mut(local_index as usize) {
                    *local = value;
                }
            }
            Operator::Block { .. } => self.open(Opener::Block, at),
            Operator::If { .. } => {
                if let Some(set) = self.known.before_if.get(&at) {
                    let set: Vec<u32> = set.iter().copied().collect();
                    self.canonicalise_locals(set, at);
                }
                self.open(Opener::If, at);
            }
            Operator::Loop { .. } => {
                let mut head = self.known.at(at, self.locals.len());
                join_into(&mut head, &self.locals);
                self.enter(&head, at);
                self.next.arrive(at, &self.locals);
                self.locals = head;
                self.open(Opener::Loop, at);
            }
            Operator::Else => {
                self.branch(&[0], at);
                self.start_else();
            }
            Operator::End => {
                // Falling out of a block or an if arrives at its label;
                // out of a loop, just past it.
                let opener = self.frames.last().map(|f| f.opener);
                if matches!(opener, Some(Opener::Block | Opener::If)) {
                    self.branch(&[0], at);
                }
                self.close();
            }
            Operator::Br { relative_depth } => self.branch(&[relative_depth], at),
            Operator::BrIf { relative_depth } => self.branch(&[relative_depth], at),
            Operator::BrTable { ref targets } => {
                let mut depths = vec![targets.default()];
                for target in targets.targets() {
                    depths.push(target?);
                }
                self.branch(&depths, at);
            }
            Operator::Try { .. }
            | Operator::TryTable { .. }
            | Operator::Catch { .. }
            | Operator::CatchAll
            | Operator::Delegate { .. } => self.control_unreachable(op, at),
            _ => {}
        }
        Ok(())
    }

    /// Keeps the frames in step with the validator's where no edge is
    /// followed: in unreachable code, and for the exception frames of an
    /// eager function (whose locals are never dirty).
    fn control_unreachable(&mut self, op: &Operator<'_>, at: usize) {
        match op {
            Operator::Block { .. } | Operator::Try { .. } | Operator::TryTable { .. } => {
                self.open(Opener::Block, at)
            }
            Operator::If { .. } => self.open(Opener::If, at),
            Operator::Loop { .. } => self.open(Opener::Loop, at),
            Operator::Else | Operator::Catch { .. } | Operator::CatchAll => self.start_else(),
            Operator::End | Operator::Delegate { .. } => self.close(),
            _ => {}
        }
    }

    fn open(&mut self, opener: Opener, start: usize) {
        self.frames.push(Frame {
            opener,
            start,
            entry: self.locals.clone(),
            has_else: false,
        });
    }

    fn start_else(&mut self) {
        if let Some(frame) = self.frames.last_mut() {
            frame.has_else = true;
            self.locals = frame.entry.clone();
        }
    }

    /// After `end`: the locals are what arrives at the label (a loop's end
    /// is just the way out of its body).
    fn close(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        match frame.opener {
            Opener::Block => self.locals = self.next.at(frame.start, self.locals.len()),
            Opener::If => {
                if !frame.has_else {
                    // The way round the body: canonicalise before the `if`
                    // what the label cannot take dirty (next pass).
                    let mut label = self.next.at(frame.start, self.locals.len());
                    join_into(&mut label, &frame.entry);
                    let canon = to_canonicalise(&frame.entry, &label);
                    if !canon.is_empty() {
                        let set = self.next.before_if.entry(frame.start).or_default();
                        set.extend(canon.iter().map(|&(i, _)| i));
                    }
                    self.next.arrive(frame.start, &frame.entry);
                }
                self.locals = self.next.at(frame.start, self.locals.len());
            }
            Opener::Loop | Opener::Function => {}
        }
    }

    /// Edges from here to the labels `depths` frames out: canonicalises
    /// (before instruction `at`) the locals some label cannot take dirty,
    /// then joins the locals into each label.
    fn branch(&mut self, depths: &[u32], at: usize) {
        let targets: Vec<(Opener, usize)> = depths
            .iter()
            .filter_map(|&d| self.frames.iter().rev().nth(d as usize))
            .map(|f| (f.opener, f.start))
            .collect();
        for &(opener, start) in &targets {
            if opener == Opener::Function {
                continue;
            }
            let mut label = self.known.at(start, self.locals.len());
            join_into(&mut label, &self.locals);
            self.enter(&label, at);
        }
        for &(opener, start) in &targets {
            if opener != Opener::Function {
                self.next.arrive(start, &self.locals);
            }
        }
    }

    /// Canonicalises (before instruction `at`) the locals that are dirty
    /// here but not in `label`.
    fn enter(&mut self, label: &[Kind], at: usize) {
        let canon: Vec<u32> = to_canonicalise(&self.locals, label)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        self.canonicalise_locals(canon, at);
    }

    /// Canonicalises the dirty ones of `locals` in place, before `at`.
    fn canonicalise_locals(&mut self, locals: Vec<u32>, at: usize) {
        let mut code = Vec::new();
        for i in locals {
            if let Some(Kind::Dirty(shape)) = self.locals.get(i as usize).copied() {
                code.extend(canonicalise_local(i, shape));
                self.locals[i as usize] = Kind::Det;
            }
        }
        if let Some(emit) = self.emit.as_deref_mut() {
            emit.before(at, code);
        }
    }

    /// Emits code before instruction `at` that canonicalises the operands
    /// in `canon` (depth 0 is the top of the stack), and marks them fixed.
    fn canonicalise_operands(&mut self, canon: &Canon, at: usize) -> Result<(), Error> {
        if canon.is_empty() {
            return Ok(());
        }
        let len = self.stack.len();
        for &(d, _) in canon {
            if let Some(k) = self.stack.get_mut(len.wrapping_sub(1 + d)) {
                *k = Kind::Det;
            }
        }
        let Some(emit) = self.emit.as_deref_mut() else {
            return Ok(());
        };
        let deepest = canon.iter().map(|&(d, _)| d).max().unwrap_or(0);
        let types = (0..=deepest)
            .map(|d| match self.validator.get_operand_type(d) {
                Some(Some(ty)) => Ok(ty),
                _ => Err(unsupported(at)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Spill the stack down to the deepest such operand into scratch
        // locals, then push it back, canonicalising on the way.
        let mut code = Vec::new();
        let mut temps = Vec::new();
        for (d, ty) in types.iter().enumerate() {
            let ordinal = types[..d].iter().filter(|t| *t == ty).count() as u32;
            temps.push(emit.temp(*ty, ordinal));
        }
        code.extend(temps.iter().map(|&t| Ins::Set(t)));
        for d in (0..=deepest).rev() {
            match canon.iter().find(|&&(c, _)| c == d) {
                Some(&(_, shape)) => code.extend(canonical_from(temps[d], shape)),
                None => code.push(Ins::Get(temps[d])),
            }
        }
        emit.before(at, code);
        Ok(())
    }
}

fn unsupported(offset: usize) -> Error {
    ReencodeError::UserError(RewriteError(format!(
        "at byte {offset}: an instruction whose operands cannot be followed"
    )))
}
