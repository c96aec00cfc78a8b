// Checks that every scope name the grammar can produce is asserted by at least
// one grammar test (an assertion line `; ^^^ scope` or `; <- scope` in tests/grammar/*.jue).
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..", "..");
const grammar = JSON.parse(fs.readFileSync(path.join(root, "syntaxes", "jue.tmLanguage.json"), "utf8"));

const scopes = new Set();
(function walk(node) {
  if (Array.isArray(node)) {
    node.forEach(walk);
  } else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if ((key === "name" || key === "contentName") && typeof value === "string" && key !== "scopeName") {
        if (node !== grammar) value.split(/\s+/).forEach((s) => scopes.add(s));
      } else {
        walk(value);
      }
    }
  }
})(grammar);

const asserted = new Set();
const dir = __dirname;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".jue"))) {
  for (const line of fs.readFileSync(path.join(dir, file), "utf8").split(/\r?\n/)) {
    const m = /^;\s*(?:\^+|<~*-+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [required] = m[1].split(/\s+-\s+|\s+-$/);
    required.split(/\s+/).filter(Boolean).forEach((s) => asserted.add(s));
  }
}

const missing = [...scopes].filter((s) => !asserted.has(s)).sort();
if (missing.length > 0) {
  console.error(`grammar coverage: ${missing.length} scope(s) never asserted as present: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(`grammar coverage: all ${scopes.size} scopes of syntaxes/jue.tmLanguage.json are asserted by tests/grammar/*.jue`);
