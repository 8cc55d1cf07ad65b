//! NaN canonicalisation for the `portable` profile, done where it matters.
//!
//! wasmtime's own option canonicalises the NaN after every float operation
//! (a compare and a blend each time); on float-heavy code that cost 5x. This
//! rewrite of the component's core modules instead canonicalises a float
//! only where its bits can be observed (see [`kind`]), which gives the same
//! guarantee (every bit the program can see is the same on every
//! architecture) at a fraction of the cost. The engine of the `portable`
//! profile compiles the rewritten component with wasmtime's option off.

mod emit;
mod function;
mod kind;
mod labels;
mod operands;

use std::collections::VecDeque;

use wasm_encoder::reencode::{
    Error as ReencodeError, Reencode, ReencodeComponent, component_utils,
};
use wasmparser::{
    FuncToValidate, FunctionBody, Parser, Payload, ValidPayload, Validator, ValidatorResources,
    WasmFeatures,
};

/// The version of the rewrite, part of the engine fingerprint and of every
/// portable job's key. Bump it with any change to what the rewrite emits:
/// compiled code and results of another version must not be reused.
pub const VERSION: &str = "djx-nan-canon-1";

/// Why a component could not be rewritten.
#[derive(Debug, thiserror::Error)]
#[error("cannot canonicalise NaNs in this component: {0}")]
pub struct RewriteError(pub(crate) String);

/// Returns `wasm` (a component or a core module) with NaN canonicalisation
/// inserted into every core function.
pub fn canonicalize_nans(wasm: &[u8]) -> Result<Vec<u8>, RewriteError> {
    let error = |e: ReencodeError<RewriteError>| match e {
        ReencodeError::UserError(e) => e,
        ReencodeError::ParseError(e) => RewriteError(e.to_string()),
        other => RewriteError(other.to_string()),
    };
    let mut rewriter = Rewriter::default();
    if Parser::is_component(wasm) {
        let mut component = wasm_encoder::Component::new();
        rewriter
            .parse_component(&mut component, Parser::new(0), wasm)
            .map_err(error)?;
        Ok(component.finish())
    } else {
        let mut module = wasm_encoder::Module::new();
        rewriter.pending = functions(wasm)?;
        rewriter
            .parse_core_module(&mut module, Parser::new(0), wasm)
            .map_err(error)?;
        Ok(module.finish())
    }
}

/// The validation state of each function body of a core module, in order.
fn functions(module: &[u8]) -> Result<VecDeque<FuncToValidate<ValidatorResources>>, RewriteError> {
    let invalid = |e: wasmparser::BinaryReaderError| RewriteError(e.to_string());
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut pending = VecDeque::new();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(invalid)?;
        // Only this module's own sections: a core module has no nested ones.
        if let ValidPayload::Func(func, _) = validator.payload(&payload).map_err(invalid)? {
            pending.push_back(func);
        }
        if let Payload::End(_) = payload {
            break;
        }
    }
    Ok(pending)
}

/// The reencoder: everything as it was, except function bodies.
#[derive(Default)]
struct Rewriter {
    /// The validation state of the current module's functions not yet
    /// rewritten.
    pending: VecDeque<FuncToValidate<ValidatorResources>>,
}

impl Reencode for Rewriter {
    type Error = RewriteError;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: FunctionBody<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        let Some(state) = self.pending.pop_front() else {
            return Err(ReencodeError::UserError(RewriteError(
                "more function bodies than the validator saw".into(),
            )));
        };
        let function = function::rewrite(self, &func, &state)?;
        code.function(&function);
        Ok(())
    }
}

impl ReencodeComponent for Rewriter {
    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        parser: Parser,
        module: &[u8],
    ) -> Result<(), ReencodeError<Self::Error>> {
        self.pending = functions(module).map_err(ReencodeError::UserError)?;
        component_utils::parse_component_submodule(self, component, parser, module)
    }
}

#[cfg(test)]
mod tests;
