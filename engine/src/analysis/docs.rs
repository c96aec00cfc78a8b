//! The one renderer of documentation: the text hover, `:doc`, `:registry` and
//! `jue registry` show for FFI functions, built-ins, user definitions, special forms
//! and capabilities.

use crate::analysis::GlobalInfo;
use crate::ground::builtins::BuiltinDef;
use crate::ground::ffi::{CapSet, Capability, FfiFunction, Signature, TrustTier};

/// How to show whether a capability is granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantView {
    /// Do not say (`jue registry`).
    Unknown,
    /// Say granted ✓ / not granted ✗ against this set.
    Against(CapSet),
}

fn capability_line(tier: TrustTier, cap: Option<Capability>, view: GrantView) -> String {
    match (cap, view) {
        (None, _) => format!("tier {tier} · no capability"),
        (Some(c), GrantView::Unknown) => format!("tier {tier} · needs {c}"),
        (Some(c), GrantView::Against(set)) if set.contains(c) => {
            format!("tier {tier} · needs {c} (granted ✓)")
        }
        (Some(c), GrantView::Against(_)) => format!("tier {tier} · needs {c} (not granted ✗)"),
    }
}

/// `NAME SIGNATURE`, the tier and capability line, then the documentation.
pub fn ffi_function(f: &FfiFunction, sig: &Signature, view: GrantView) -> String {
    let mut s = format!(
        "{} {sig}\n{}",
        f.name,
        capability_line(f.tier, f.required_capability, view)
    );
    if !f.documentation.is_empty() {
        s.push('\n');
        s.push_str(&f.documentation);
    }
    s
}

/// A built-in procedure.
pub fn builtin(b: &BuiltinDef) -> String {
    format!(
        "{} {}\n{} (built-in)\n{}",
        b.name,
        b.sig,
        capability_line(b.tier, b.capability, GrantView::Unknown),
        b.doc
    )
}

/// A user definition: parameters, tier, inferred needs, doc comment.
pub fn user_definition(name: &str, g: &GlobalInfo, view: GrantView) -> String {
    let head = match g.arity {
        Some(a) => {
            let mut params = g.params.clone();
            if a.variadic
                && let Some(last) = params.last_mut()
            {
                *last = format!(". {last}");
            }
            format!(
                "({name}{}{})",
                if params.is_empty() { "" } else { " " },
                params.join(" ")
            )
        }
        None => name.to_string(),
    };
    let needs = if g.needs.is_empty() {
        format!("tier {} · needs no capability", g.tier)
    } else {
        let marks: Vec<String> = g
            .needs
            .iter()
            .map(|c| match view {
                GrantView::Against(set) if set.contains(c) => format!("{c} ✓"),
                GrantView::Against(_) => format!("{c} ✗"),
                GrantView::Unknown => c.to_string(),
            })
            .collect();
        format!("tier {} · needs {}", g.tier, marks.join(", "))
    };
    let mut s = format!("{head}\n{needs} (user definition)");
    if let Some(d) = &g.doc {
        s.push('\n');
        s.push_str(d);
    }
    s
}

/// A capability name: what it guards.
pub fn capability(c: Capability, view: GrantView) -> String {
    let state = match view {
        GrantView::Against(set) if set.contains(c) => " (granted ✓)",
        GrantView::Against(_) => " (not granted ✗)",
        GrantView::Unknown => "",
    };
    format!("{c}{state}\ncapability: {}", c.description())
}

/// The syntax and meaning of a special form.
pub fn special_form(name: &str) -> Option<String> {
    let (syntax, meaning) = match name {
        "quote" => ("(quote datum) or 'datum", "The datum, unevaluated."),
        "if" => (
            "(if test then [else])",
            "Evaluates then when test is true (not nil or false), else the else branch (nil when missing).",
        ),
        "cond" => (
            "(cond (test expr ...) ... (else expr ...))",
            "The first clause whose test is true; `(test)` gives the test's value; no match gives nil.",
        ),
        "and" => (
            "(and expr ...)",
            "Short-circuit and: the first false value, else the last; `(and)` is true.",
        ),
        "or" => (
            "(or expr ...)",
            "Short-circuit or: the first true value, else the last; `(or)` is false.",
        ),
        "when" => (
            "(when test expr ...)",
            "Runs the body when test is true; nil otherwise.",
        ),
        "unless" => (
            "(unless test expr ...)",
            "Runs the body when test is false; nil otherwise.",
        ),
        "begin" | "do" => (
            "(begin expr ...), alias do",
            "Evaluates in order; the value of the last; `(begin)` is nil.",
        ),
        "lambda" | "λ" | "fn" => (
            "(lambda (a b . rest) body ...), aliases λ and fn",
            "A closure capturing the variables it uses.",
        ),
        "define" => (
            "(define name expr) or (define (name params ...) body ...)",
            "A definition, at top level or at the start of a body.",
        ),
        "def" => (
            "(def name expr) or (def name (params ...) body ...)",
            "The seed's spelling of define.",
        ),
        "let" => (
            "(let ((name expr) ...) body ...) or (let loop ((name expr) ...) body ...)",
            "Local bindings; the named form loops in constant space.",
        ),
        "let*" => (
            "(let* ((name expr) ...) body ...)",
            "Bindings in order, each seeing the ones before.",
        ),
        "letrec" => (
            "(letrec ((name expr) ...) body ...)",
            "Mutually recursive bindings.",
        ),
        "set!" => (
            "(set! name expr)",
            "Assigns a variable in scope; the value is nil.",
        ),
        "require-capability" => (
            "(require-capability Cap)",
            "Declares that the code after it needs Cap; at run time returns its token if granted, else fails with capability-denied.",
        ),
        "has-capability?" => (
            "(has-capability? Cap)",
            "Whether the session holds Cap, without asking.",
        ),
        "ffi-call" => (
            "(ffi-call name arg ...)",
            "Calls a registered host function; the name is written literally.",
        ),
        "try" => (
            "(try body ... (catch err handler ...))",
            "Runs the body; on a run-time error binds err and runs the handler. Limits and interrupts are not caught.",
        ),
        "import" => (
            "(import \"path.jue\") or (import \"path.jue\" :as A)",
            "At top level: loads the file once per session and binds its top-level definitions (as `A/name` with `:as A`); the path is relative to the importing file.",
        ),
        _ => return None,
    };
    Some(format!("{syntax}\nspecial form\n{meaning}"))
}

/// Whether a function matches a filter word: name, capability or documentation,
/// case-insensitively.
pub fn matches_filter(f: &FfiFunction, word: &str) -> bool {
    let w = word.to_lowercase();
    f.name.to_lowercase().contains(&w)
        || f.required_capability
            .is_some_and(|c| c.name().to_lowercase().contains(&w))
        || f.documentation.to_lowercase().contains(&w)
}

/// One row of the compact registry table (the REPL's `:registry`): the grant
/// mark (`✓`, `✗`, or `·` for no capability), the name, the signature, the
/// capability (`-` for none) and the tier.
pub fn ffi_row(f: &FfiFunction, sig: &Signature, view: GrantView) -> [String; 5] {
    let mark = match (f.required_capability, view) {
        (None, _) => "·",
        (Some(_), GrantView::Unknown) => " ",
        (Some(c), GrantView::Against(set)) if set.contains(c) => "✓",
        (Some(_), GrantView::Against(_)) => "✗",
    };
    [
        mark.to_string(),
        f.name.clone(),
        sig.to_string(),
        f.required_capability
            .map_or_else(|| "-".to_string(), |c| c.name().to_string()),
        f.tier.to_string(),
    ]
}
