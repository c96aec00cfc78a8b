//! The `:command` table (tooling.md §2): names, arguments and help. It depends
//! on nothing in the crate, so the helper (completion) and the commands read it.

/// One command.
pub struct Command {
    /// `:name`.
    pub name: &'static str,
    /// Its arguments, as shown by `:help`.
    pub args: &'static str,
    /// One line for the `:help` list (it fits 80 columns).
    pub short: &'static str,
    /// What it does, for `:help CMD`.
    pub help: &'static str,
}

/// Every command, in the order `:help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ":help",
        args: "[CMD|TOPIC]",
        short: "this list; one command's help; a topic",
        help: "list commands, or show one command's help, or a topic: keys, results, capabilities, limits, docs",
    },
    Command {
        name: ":grant",
        args: "CAP [SCOPE]",
        short: "grant a capability (`:help grant` for scopes)",
        help: "grant a capability: `:grant IoNetwork`, `:grant IoPersist ./data`, `:grant IoNetwork 127.0.0.1:8080`, `:grant ResourceExtraTime 5000`",
    },
    Command {
        name: ":revoke",
        args: "CAP",
        short: "revoke all grants of a capability",
        help: "revoke all grants of a capability",
    },
    Command {
        name: ":caps",
        args: "",
        short: "held capabilities, scopes, when and how granted",
        help: "held capabilities, their scopes, and when and how each was granted",
    },
    Command {
        name: ":registry",
        args: "[FILTER]",
        short: "FFI functions: signature, granted ✓/✗, tier",
        help: "live registry view: one row per FFI function with its signature, capability granted ✓/✗ now and tier, through $PAGER when taller than the terminal; one function (or an exact name) shows its whole entry. FILTER words must all match: tier:T, cap:C (cap:none for pure functions), ns:NS (or NS:), granted, denied, or any word of a name, capability or documentation",
    },
    Command {
        name: ":doc",
        args: "NAME",
        short: "documentation of any name or capability",
        help: "documentation of an FFI function, built-in, special form, capability or user definition (with the capabilities it needs)",
    },
    Command {
        name: ":type",
        args: "EXPR",
        short: "static type of an expression, not run",
        help: "the statically known type of an expression, without running it: `:type (math:add 1 2)` prints `Int`",
    },
    Command {
        name: ":tier",
        args: "[TIER]",
        short: "show or set the default tier",
        help: "show or set the default tier of the following inputs (formal, verified, empirical, experimental)",
    },
    Command {
        name: ":load",
        args: "FILE",
        short: "evaluate a file into the session",
        help: "evaluate a file into the session (relative to the current directory), through the capability prompt; its imports are relative to FILE, beneath FILE's directory, and files already loaded are not run again",
    },
    Command {
        name: ":reload",
        args: "[FILE]",
        short: "load changed files again",
        help: "read again every file the session loaded (with :load or import) whose text changed, or only FILE; check them with what they import, and the loaded files that import them (not run again); with no error run them again (imported files first), so their new definitions replace the old ones and code compiled earlier calls them; says what was reloaded and checked, a line per file; with an error nothing is reloaded",
    },
    Command {
        name: ":edit",
        args: "[NAME]",
        short: "edit the last input or a definition in $EDITOR",
        help: "open the last input, or the definition of NAME as last made (with its `;;` comments), in $VISUAL or $EDITOR (vi when neither is set); when the file is saved and the editor exits, the text is evaluated as if typed; quitting without saving evaluates nothing",
    },
    Command {
        name: ":save",
        args: "FILE",
        short: "write the session's definitions to FILE",
        help: "write the session's definitions, in the order they were last made, with their `;;` comments, to FILE (replaced whole: written to a temporary file, then renamed)",
    },
    Command {
        name: ":reset",
        args: "[all]",
        short: "drop definitions and *1..*3 (`all`: grants too)",
        help: "drop definitions and *1..*3, stop and forget every actor (ids go on counting), restore the start-up tier and limits; keep grants (`:reset all` drops them too)",
    },
    Command {
        name: ":limits",
        args: "[NAME N]",
        short: "show or set the evaluation limits",
        help: "show or set the limits of each evaluation (NAME: steps, memory, time, depth, actors): `:limits steps 1000000`, `:limits actors 100` (live actors, actor 0 included), `:limits time off` removes the wall-time limit",
    },
    Command {
        name: ":actors",
        args: "",
        short: "the session's actors: id, state, mailbox, function",
        help: "the session's actors, live ones in id order then the 20 that ended last: id, state (runnable, waiting, sleeping, in host call, done, failed), mailbox size and function. Actors spawned by an input live on and run only while a later input or `:load` runs",
    },
    Command {
        name: ":set",
        args: "[NAME N]",
        short: "show or set how much of a result prints",
        help: "show or set how much of a result is printed (NAME: print-length, print-depth, print-chars): elements of a list or vector and entries of a dict (print-length, default 1,000), nesting (print-depth, default 100), characters (print-chars, default 10,000); `off` prints everything; what is left out is named by a marker like `… 99,990 more`",
    },
    Command {
        name: ":time",
        args: "",
        short: "toggle time and steps of each evaluation",
        help: "toggle printing the time and steps of each evaluation",
    },
    Command {
        name: ":history",
        args: "[TEXT]",
        short: "past inputs (those containing TEXT)",
        help: "the last 20 inputs of the history (this session's and earlier ones), or those containing TEXT",
    },
    Command {
        name: ":bt",
        args: "",
        short: "full call stack of the last error",
        help: "the full call stack of the last run-time error (reports collapse repeated frames: `… 99,990 more frames of f`); `*e` holds the error itself",
    },
    Command {
        name: ":audit",
        args: "",
        short: "capability checks: counts and the last 20",
        help: "capability checks: counts per function, capability and result, and the last 20",
    },
    Command {
        name: ":sensor",
        args: "NAME VALUE",
        short: "set a virtual sensor",
        help: "set a virtual sensor",
    },
    Command {
        name: ":actuators",
        args: "",
        short: "each actuator's last value and write count",
        help: "each actuator's last value and write count",
    },
    Command {
        name: ":quit",
        args: "",
        short: "leave (also :q, exit, quit, Ctrl-D)",
        help: "leave the REPL (also `:q`, `exit`, `quit` and Ctrl-D)",
    },
];

/// Topics of `:help TOPIC` besides the commands.
pub const TOPICS: &[(&str, &str)] = &[
    (
        "keys",
        "Enter evaluates once every bracket and string is closed; until then the input goes on over the next lines. \
Tab completes names (special forms, built-ins, FFI functions, your definitions), capabilities, tiers, files and commands; \
a dim hint shows the signature of the function being called. Up/Down and Ctrl-R search the history. \
Ctrl-C discards the input being typed, stops a running evaluation (`interrupted`, definitions and grants kept) \
or the printing of a long result. Ctrl-D on an empty line, `:q`, `exit` or `quit` leaves.",
    ),
    (
        "results",
        "Results print on stdout in Jue's printed form; a definition prints nothing. `*1 *2 *3` are the last three results, \
`*e` the last run-time error (an error value: `(error-kind *e)`), `:bt` its full call stack. \
A result longer than the print bounds is cut with a marker naming what was left out (`… 99,990 more`); \
`:set` shows and sets the bounds (`:set print-length off` prints every element).",
    ),
    (
        "capabilities",
        "The session starts with no capability (deny by default). Before an input runs, one question names every capability \
it may use that the session lacks: `y` grants them for the session, `once` for this input only, `N` or Enter runs it without them. \
`:grant CAP [SCOPE]` grants (IoPersist takes a directory, IoNetwork a host:port), `:revoke CAP` revokes, `:caps` lists grants, \
`:audit` lists checks, `:registry` shows which FFI functions need what.",
    ),
    (
        "limits",
        "Every input runs under limits of steps, heap memory, wall time (30 s unless --timeout) and call depth; \
`:limits` shows and sets them. Experimental code runs under tighter ones; ResourceExtraMemory and ResourceExtraTime grants raise them.",
    ),
    (
        "docs",
        "`:doc NAME` documents any name. The language reference is docs/language.md and the tutorial docs/guide.md, \
in the Jue repository (the README says where the REPL itself is described).",
    ),
];

/// Other names of commands: `:q` and `:exit` leave.
pub const ALIASES: &[(&str, &str)] = &[(":q", ":quit"), (":exit", ":quit"), (":?", ":help")];

/// The command named `name` (with or without its `:`, or an alias).
pub fn find(name: &str) -> Option<&'static Command> {
    let name = if name.starts_with(':') {
        name.to_string()
    } else {
        format!(":{name}")
    };
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name.as_str(), |(_, c)| c);
    COMMANDS.iter().find(|c| c.name == name)
}

/// The command closest to a mistyped one: the engine's "did you mean", then,
/// for short names, up to two edits (`:hepl` → `:help`).
pub fn did_you_mean(cmd: &str) -> Option<&'static str> {
    let cmd = cmd.to_lowercase();
    if let Some(s) = jue_engine::suggest::closest(&cmd, COMMANDS.iter().map(|c| c.name)) {
        return COMMANDS.iter().map(|c| c.name).find(|n| *n == s);
    }
    COMMANDS
        .iter()
        .map(|c| (jue_engine::suggest::distance(&cmd, c.name), c.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}
