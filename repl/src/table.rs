//! The `:command` table (tooling.md §2): names, arguments and help. It depends
//! on nothing in the crate, so the helper (completion) and the commands read it.

/// One command.
pub struct Command {
    /// `:name`.
    pub name: &'static str,
    /// Its arguments, as shown by `:help`.
    pub args: &'static str,
    /// What it does.
    pub help: &'static str,
}

/// Every command, in the order `:help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ":help",
        args: "[CMD]",
        help: "list commands, or show one command's help",
    },
    Command {
        name: ":grant",
        args: "CAP [SCOPE]",
        help: "grant a capability: `:grant IoNetwork`, `:grant IoPersist ./data`, `:grant IoNetwork 127.0.0.1:8080`, `:grant ResourceExtraTime 5000`",
    },
    Command {
        name: ":revoke",
        args: "CAP",
        help: "revoke all grants of a capability",
    },
    Command {
        name: ":caps",
        args: "",
        help: "held capabilities, their scopes, and when and how each was granted",
    },
    Command {
        name: ":registry",
        args: "[FILTER]",
        help: "live registry view: every FFI function with its signature, capability granted ✓/✗ now, tier and documentation; FILTER matches name, capability or documentation",
    },
    Command {
        name: ":doc",
        args: "NAME",
        help: "documentation of an FFI function, built-in, special form, capability or user definition",
    },
    Command {
        name: ":type",
        args: "EXPR",
        help: "the statically known type of an expression, without running it: `:type (math:add 1 2)` prints `Int`",
    },
    Command {
        name: ":tier",
        args: "[TIER]",
        help: "show or set the default tier of the following inputs (formal, verified, empirical, experimental)",
    },
    Command {
        name: ":load",
        args: "FILE",
        help: "evaluate a file into the session (relative to the current directory), through the capability prompt",
    },
    Command {
        name: ":reset",
        args: "[all]",
        help: "drop definitions and *1..*3, restore the start-up tier and limits; keep grants (`:reset all` drops them too)",
    },
    Command {
        name: ":limits",
        args: "[steps N | memory N | time MS | depth N]",
        help: "show or set the limits of each evaluation (`time off` removes the wall-time limit)",
    },
    Command {
        name: ":time",
        args: "",
        help: "toggle printing the time and steps of each evaluation",
    },
    Command {
        name: ":audit",
        args: "",
        help: "capability checks: counts per function, capability and result, and the last 20",
    },
    Command {
        name: ":sensor",
        args: "NAME VALUE",
        help: "set a virtual sensor",
    },
    Command {
        name: ":actuators",
        args: "",
        help: "each actuator's last value and write count",
    },
    Command {
        name: ":quit",
        args: "",
        help: "leave the REPL (Ctrl-D too)",
    },
];

pub fn find(name: &str) -> Option<&'static Command> {
    let name = if name.starts_with(':') {
        name.to_string()
    } else {
        format!(":{name}")
    };
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
