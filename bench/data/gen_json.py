#!/usr/bin/env python3
"""Write the JSON benchmark's document: one object of about 10 MB.

Usage: gen_json.py OUT [RECORDS]

Deterministic (its own 64-bit LCG). {"generator": ..., "count": N,
"records": [ ... ]} where each record has ints, a non-integral float (k +
0.25 or k + 0.75: exact in binary and printed alike by every JSON library), a
bool, a null, a string with escapes (\\n, \\", \\\\) and non-ASCII letters, a
nested object and a non-empty array. No "/" (Lua's cjson writes it "\\/"),
no empty array or object (cjson cannot tell them apart) and no whole-valued
float (printed "2.0" by some and "2" by others), so the compact re-encoding
has the same length in every language even though Lua tables do not
keep key order: the checksum compares that length.
"""
import json
import sys

M = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.s = seed & M

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & M
        return self.s >> 33


WORDS = ["alpha", "beta", "gamma", "delta", "straße", "café", "naïve",
         "zeta", "theta", "kappa", "lambda", "omega", "quote\"d", "back\\slash",
         "line\nbreak", "tab\tbed"]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: gen_json.py OUT [RECORDS]")
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 46_000
    rng = Lcg(17)
    records = []
    for i in range(1, n + 1):
        r = rng.next()
        words = [WORDS[rng.next() % len(WORDS)] for _ in range(1 + r % 6)]
        records.append({
            "id": i,
            "name": "user-" + str(r % 100000),
            "score": r % 1000 - 500,
            "ratio": (r % 997) + (0.25 if r & 1 else 0.75),
            "active": bool(r & 2),
            "parent": None,
            "note": " ".join(words),
            "tags": [WORDS[(r >> k) % len(WORDS)] for k in range(1 + r % 4)],
            "pos": {"x": r % 640, "y": (r >> 10) % 480, "label": words[0]},
            "history": [(r >> k) % 100 for k in range(2 + r % 5)],
        })
    doc = {"generator": "gen_json.py", "count": n, "records": records}
    with open(out_path := sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
