//! Property tests of language §12 through the embedding API: JSON round trips,
//! `sort` stability, and dict operations against a model of insertion order.

use jue_engine::Session;
use jue_engine::ffi::Value as V;
use proptest::prelude::*;

fn json_data() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Nil),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(V::Float),
        "\\PC{0,8}".prop_map(V::String),
        "[\\x00-\\x1f\"\\\\a]{0,4}".prop_map(V::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(V::Vector),
            prop::collection::vec(("[a-c]{0,2}", inner), 0..6).prop_map(|es| {
                V::Dict(es.into_iter().map(|(k, v)| (V::String(k), v)).collect())
            }),
        ]
    })
}

fn serde_json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(J::from),
        "\\PC{0,6}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::btree_map("[a-d]{0,2}", inner, 0..5)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// `(equal? (json-parse (json-stringify v)) v)` for JSON-shaped data.
    #[test]
    fn json_round_trip_of_data(v in json_data()) {
        let mut s = Session::new();
        let text = s.call("json-stringify", std::slice::from_ref(&v)).expect("stringify");
        let back = s.call("json-parse", &[text]).expect("parse");
        let same = s.call("equal?", &[back, v]).expect("equal?");
        prop_assert_eq!(same, V::Bool(true));
    }

    /// Every text serde_json writes parses and is written back to the same value.
    #[test]
    fn json_texts_round_trip(j in serde_json_value()) {
        let mut s = Session::new();
        let text = serde_json::to_string(&j).expect("serde writes");
        let parsed = s.call("json-parse", &[V::String(text)]).expect("parse");
        let out = s.call("json-stringify", &[parsed]).expect("stringify");
        let V::String(out) = out else { panic!("a string") };
        let again: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        prop_assert_eq!(again, j);
    }

    /// `sort` is stable: equal keys keep their order, as Rust's stable sort does.
    #[test]
    fn sort_is_stable(keys in prop::collection::vec(0i64..5, 0..40), vector in any::<bool>()) {
        let mut s = Session::new();
        s.eval_str("t", "(define (by-car l) (sort l (lambda (a b) (< (car a) (car b)))))")
            .expect("define");
        let items: Vec<V> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| V::Pair(Box::new(V::Int(*k)), Box::new(V::Int(i as i64))))
            .collect();
        let arg = if vector { V::Vector(items.clone()) } else if items.is_empty() { V::Nil } else { V::List(items.clone()) };
        let got = s.call("by-car", &[arg]).expect("sort");
        let mut want = items;
        want.sort_by_key(|p| match p { V::Pair(k, _) => match **k { V::Int(k) => k, _ => 0 }, _ => 0 });
        let want = if vector { V::Vector(want) } else if want.is_empty() { V::Nil } else { V::List(want) };
        prop_assert_eq!(got, want);
    }

    /// Sets and removes against a model: order of first setting, last value,
    /// a removed key appended again when set again.
    #[test]
    fn dict_ops_match_a_model(ops in prop::collection::vec((0u8..3, 0i64..6, any::<i16>()), 0..40)) {
        let mut s = Session::new();
        let mut d = s.call("dict", &[]).expect("empty dict");
        let mut model: Vec<(i64, i64)> = Vec::new();
        for (op, k, v) in ops {
            let key = if k % 2 == 0 { V::Int(k) } else { V::String(k.to_string()) };
            if op == 0 {
                d = s.call("dict-remove", &[d, key]).expect("remove");
                model.retain(|(mk, _)| *mk != k);
            } else {
                d = s.call("dict-set", &[d, key, V::Int(v as i64)]).expect("set");
                match model.iter_mut().find(|(mk, _)| *mk == k) {
                    Some(e) => e.1 = v as i64,
                    None => model.push((k, v as i64)),
                }
            }
        }
        let want: Vec<(V, V)> = model
            .iter()
            .map(|(k, v)| (if k % 2 == 0 { V::Int(*k) } else { V::String(k.to_string()) }, V::Int(*v)))
            .collect();
        prop_assert_eq!(&d, &V::Dict(want.clone()));
        let size = s.call("dict-size", &[d.clone()]).expect("size");
        prop_assert_eq!(size, V::Int(want.len() as i64));
        for k in 0..6i64 {
            let key = if k % 2 == 0 { V::Int(k) } else { V::String(k.to_string()) };
            let got = s.call("dict-ref", &[d.clone(), key, V::Symbol(":none".into())]).expect("ref");
            let want_v = model.iter().find(|(mk, _)| *mk == k).map_or(V::Symbol(":none".into()), |(_, v)| V::Int(*v));
            prop_assert_eq!(got, want_v);
        }
    }
}

#[test]
fn dict_survives_many_removals_and_compaction() {
    let mut s = Session::new();
    let v = s
        .eval_str(
            "t",
            "(let loop ((i 0) (d {}))
               (if (< i 2000)
                   (loop (+ i 1) (dict-remove (dict-set (dict-set d i i) (+ i 100000) 0) (+ i 100000)))
                   (list (dict-size d) (dict-ref d 0) (dict-ref d 1999) (car (dict-keys d)))))",
        )
        .expect("runs");
    assert_eq!(
        v,
        V::List(vec![V::Int(2000), V::Int(0), V::Int(1999), V::Int(0)])
    );
}
