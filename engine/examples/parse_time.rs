//! Times the parser and the checker on a file: `cargo run --release -p jue-engine --example parse_time FILE`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse_time FILE");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let mb = text.len() as f64 / 1e6;
    let t = std::time::Instant::now();
    let lexed = jue_engine::syntax::lexer::lex(&text);
    let l = t.elapsed().as_secs_f64();
    println!(
        "lex: {l:.3} s = {:.0} MB/s ({} tokens)",
        mb / l,
        lexed.tokens.len()
    );
    drop(lexed);
    let t = std::time::Instant::now();
    let parse = jue_engine::syntax::parse(&text);
    let p = t.elapsed().as_secs_f64();
    println!(
        "parse: {mb:.1} MB in {p:.3} s = {:.0} MB/s ({} forms)",
        mb / p,
        parse.forms.len()
    );
    let session = jue_engine::Session::new();
    let t = std::time::Instant::now();
    let an = session.check(&jue_engine::SourceFile::new(path.as_str(), text.as_str()));
    let c = t.elapsed().as_secs_f64();
    println!(
        "check (parse + analysis): {c:.3} s = {:.0} MB/s ({} diagnostics)",
        mb / c,
        an.diagnostics.len()
    );
    // Peak and current resident memory, with the analysis still alive.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for l in status
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
    {
        println!("{l}");
    }
    drop(an);
}
