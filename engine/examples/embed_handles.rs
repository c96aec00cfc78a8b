//! Handles: a Jue procedure kept by the host across collections, called later and
//! passed back in; a rooted value read after collections; a dropped handle freed.
//!
//! `cargo run -p jue-engine --example embed_handles` (also run by `cargo test`).

use jue_engine::{Output, Session, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut s = Session::with_output(Output::new(Box::new(std::io::sink())));
    // A closure over `step`: the host keeps it as a `Function`.
    let Value::Function(counter) = s.eval_str(
        "counter",
        "(define (make-counter step) (let ((n 0)) (lambda () (set! n (+ n step)) n))) (make-counter 5)",
    )?
    else {
        return Err("expected a procedure".into());
    };
    println!("kept {}", counter.printed());
    s.collect_garbage();
    for _ in 0..3 {
        let v = counter.call(&mut s, &[])?;
        println!("counter -> {v}");
    }
    assert_eq!(s.call_function(&counter, &[])?, Value::Int(20));

    // A handle passes back into Jue as an argument.
    let square = s.function("*")?;
    let Value::Function(adder) = s.eval_str("adder", "(lambda (x) (+ x 1))")? else {
        return Err("expected a procedure".into());
    };
    let mapped = s.call(
        "map",
        &[
            Value::Function(adder),
            Value::List(vec![Value::Int(1), Value::Int(2)]),
        ],
    )?;
    println!("map -> {mapped}");
    assert_eq!(
        s.call_function(&square, &[Value::Int(6), Value::Int(7)])?,
        Value::Int(42)
    );

    // Any value can stay in the heap behind a `Rooted` handle.
    let table = s.eval_rooted("table", "(list (list 'a 1) (list 'b 2))")?;
    s.collect_garbage();
    println!("rooted -> {}", s.value_of(&table)?);
    let held = s.handles_held();
    drop(table);
    s.collect_garbage();
    println!("handles held: {held} -> {}", s.handles_held());
    assert_eq!(s.handles_held(), held - 1);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::main().expect("the example runs");
    }
}
