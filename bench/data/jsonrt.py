"""JSON: parse the document of gen_json.py (path in argv[1]) with the
standard json module, then stringify it compactly (no white space,
non-ASCII as it is). Prints: the number of records, the sum of their ids and
scores, and the length of the compact text in characters (Unicode
scalar values, as Jue's string-length counts)."""
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
doc = json.loads(text)
out = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
recs = doc["records"]
print(len(recs), sum(r["id"] for r in recs), sum(r["score"] for r in recs),
      len(out))
