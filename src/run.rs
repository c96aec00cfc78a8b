//! `jue run`: check the whole file, then run it.

use crate::options::{LimitArgs, read_source, stderr_color};
use clap::Args;
use jue_engine::report::{render_diagnostic, render_runtime_error};
use jue_engine::{ErrorKind, EvalError, Session};
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `jue run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The program.
    pub file: String,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Set a virtual sensor before running: `--sensor temp=21.5`.
    #[arg(long = "sensor", value_name = "NAME=VALUE", value_parser = parse_sensor)]
    pub sensors: Vec<(String, f64)>,
    /// Print the compiled bytecode of the program to stderr (for engine developers).
    #[arg(long, hide = true)]
    pub disassemble: bool,
}

/// Runs a file: 0 on success, 1 on a run-time error, 2 on a compile error, 130 on Ctrl-C.
pub fn main(args: RunArgs) -> ExitCode {
    let color = stderr_color();
    let source = match read_source(&args.file) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let mut session = Session::new();
    session.limits = args.limits.limits(session.limits);
    if let Some(t) = args.limits.tier {
        session.default_tier = t;
    }
    if let Err(msg) = crate::options::apply_grants(&mut session, &args.limits.grants) {
        eprintln!("{msg}");
        return ExitCode::from(2);
    }
    for (name, value) in &args.sensors {
        session.sensors().set_sensor(name, *value);
    }
    let interrupt = session.interrupt();
    // Ctrl-C raises the engine's interrupt flag; the VM stops at its next safe point.
    let sigint = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _ =
        signal_hook::flag::register(signal_hook::consts::SIGINT, std::sync::Arc::clone(&sigint));
    let watcher = {
        let sigint = std::sync::Arc::clone(&sigint);
        std::thread::spawn(move || {
            loop {
                if sigint.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    interrupt.raise();
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    drop(watcher);
    // FILE's directory is the root its imports stay beneath (language §13).
    let prepared = match session.prepare_file(source, std::path::Path::new(&args.file)) {
        Ok(p) => p,
        Err(EvalError::Compile {
            source,
            diagnostics,
            imported,
        }) => {
            for d in &diagnostics {
                eprint!("{}", render_diagnostic(d, &source, color));
            }
            for (file, ds) in &imported {
                for d in ds {
                    eprint!("{}", render_diagnostic(d, file, color));
                }
            }
            return ExitCode::from(2);
        }
        Err(EvalError::Runtime(e)) => {
            // Refused before it ran (a text too large to compile under the limit).
            eprint!("{}", render_runtime_error(&e, &session, color));
            return ExitCode::from(1);
        }
    };
    if args.disassemble {
        let protos = session.vm().protos();
        let first = prepared
            .items
            .first()
            .map_or(protos.len(), |i| i.proto as usize);
        let first_fn = protos
            .iter()
            .position(|p| p.source == protos[first.min(protos.len() - 1)].source)
            .unwrap_or(first);
        for p in &protos[first_fn..] {
            eprintln!("{}", p.disassemble());
        }
    }
    for d in &prepared.analysis.diagnostics {
        eprint!("{}", render_diagnostic(d, &prepared.source, color));
    }
    for (file, ds) in &prepared.imported {
        for d in ds {
            eprint!("{}", render_diagnostic(d, file, color));
        }
    }
    let result = session.run(&prepared);
    // The other actors stop where they are; a blocking call still running is
    // waited for (language §9).
    session.finish_host_calls();
    let _ = std::io::stdout().flush();
    if let Some(note) = session
        .sensors()
        .take_unset_reads()
        .note("--sensor NAME=VALUE")
    {
        eprintln!("{note}");
    }
    let code = match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", render_runtime_error(&e, &session, color));
            if e.kind == ErrorKind::Interrupted {
                ExitCode::from(130)
            } else {
                ExitCode::from(1)
            }
        }
    };
    // Then the actors that failed unawaited (W0401); warnings never change the
    // exit status.
    for (d, source) in session.take_actor_warnings() {
        match source {
            Some(src) => eprint!("{}", render_diagnostic(&d, &src, color)),
            None => eprintln!("warning[{}]: {}", d.code.as_str(), d.message),
        }
    }
    // The process ends here and the system takes its memory back at once:
    // freeing a large heap object by object took 3 % of a word count (perf).
    // Everything with an effect outside (output, host calls) is done above.
    std::mem::forget(session);
    code
}

/// Parses `NAME=VALUE` for `--sensor`.
fn parse_sensor(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or("expected NAME=VALUE, e.g. temp=21.5")?;
    let v: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    if name.trim().is_empty() {
        return Err("the sensor name is empty".into());
    }
    Ok((name.trim().to_string(), v))
}
