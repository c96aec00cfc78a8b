//! Collecting code: prototypes (and through them their constants and source
//! texts) live only while something reachable needs them. A prototype is live
//! when a live closure runs it, when a live prototype makes closures of it
//! (`Instr::Closure`), or when the caller pins it (prepared forms not run yet,
//! trampolines). Runs only between evaluations: frames cache code slices
//! (`Vm::code_of`), so no code may be freed while anything runs.

use super::Vm;
use super::value::{ObjRef, Value};
use crate::ground::bytecode::{Instr, Proto};

/// What a code collection kept.
#[derive(Clone, Debug, Default)]
pub struct CodeSweep {
    /// Live prototypes after it.
    pub live_protos: usize,
    /// Prototypes it freed.
    pub freed: usize,
    /// Source ids that live prototypes come from (sorted, no duplicates).
    pub live_sources: Vec<u32>,
}

impl Vm {
    /// Prototypes that hold code now (freed slots not counted).
    pub fn live_protos(&self) -> usize {
        self.protos.len() - self.free_protos.len()
    }

    /// Prototypes added since the last code collection.
    pub fn protos_since_sweep(&self) -> usize {
        self.added_since_sweep
    }

    /// Takes a free prototype slot or appends one; returns its index.
    pub(super) fn place_proto(&mut self, p: Proto<Value>) -> u32 {
        self.added_since_sweep += 1;
        if let Some(i) = self.free_protos.pop() {
            self.protos[i as usize] = p;
            i
        } else {
            self.protos.push(p);
            (self.protos.len() - 1) as u32
        }
    }

    /// Collects the heap and the code together. Roots: globals, `extra` values,
    /// the prototypes in `pinned` and the trampolines. Unreachable prototypes are
    /// freed (their slot reused by the next `add_proto`).
    ///
    /// # Panics
    /// If called while an evaluation runs (a bug: frames hold code slices).
    pub fn collect_code(&mut self, pinned: &[u32], extra: &[Value]) -> CodeSweep {
        assert!(
            self.frames.is_empty(),
            "code is collected only between evaluations"
        );
        let n = self.protos.len();
        let mut marked = vec![false; n];
        let mut pending: Vec<u32> = pinned
            .iter()
            .copied()
            .chain(self.trampolines.values().copied())
            .chain(self.actors.protos())
            .collect();
        let protos = &self.protos;
        // Marks a prototype and everything it makes closures of; pushes the
        // constants of each onto the heap's worklist.
        let mut mark = |start: &mut Vec<u32>, work: &mut Vec<ObjRef>| {
            while let Some(p) = start.pop() {
                let i = p as usize;
                if i >= n || marked[i] {
                    continue;
                }
                marked[i] = true;
                let proto = &protos[i];
                work.extend(proto.consts.iter().filter_map(|v| v.obj()));
                for ins in &proto.code {
                    if let Instr::Closure(_, child) = *ins {
                        start.push(child);
                    }
                }
            }
        };
        let mut roots: Vec<ObjRef> = Vec::new();
        mark(&mut pending, &mut roots);
        let root_values: Vec<Value> = self
            .globals
            .iter()
            .chain(extra.iter())
            .copied()
            .chain(self.roots.values())
            .chain(self.actors.roots())
            .chain(roots.into_iter().map(Value::Str))
            .collect();
        // `Value::Str` above only carries the handle to the marker, which follows
        // any object kind behind it.
        let mut scratch = Vec::new();
        self.heap.collect_traced(root_values, &mut |p, work| {
            scratch.push(p);
            mark(&mut scratch, work);
        });
        let mut freed = 0;
        for (i, live) in marked.iter().enumerate() {
            if *live || self.is_free_slot(i) {
                continue;
            }
            self.protos[i] = freed_proto();
            self.free_protos.push(i as u32);
            freed += 1;
        }
        self.added_since_sweep = 0;
        let mut live_sources: Vec<u32> = marked
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .map(|(i, _)| self.protos[i].source)
            .collect();
        live_sources.sort_unstable();
        live_sources.dedup();
        CodeSweep {
            live_protos: self.live_protos(),
            freed,
            live_sources,
        }
    }

    fn is_free_slot(&self, i: usize) -> bool {
        self.protos[i].code.is_empty()
    }
}

/// What a freed prototype slot holds: no code (no valid prototype has none: every
/// one ends in a return), so a freed slot is recognisable.
fn freed_proto() -> Proto<Value> {
    Proto {
        name: "<freed>".into(),
        nparams: 0,
        variadic: false,
        nregs: 0,
        code: Vec::new(),
        spans: Vec::new(),
        consts: Vec::new(),
        captures: Vec::new(),
        source: u32::MAX,
        tier: crate::ground::tier::TrustTier::Formal,
    }
}
