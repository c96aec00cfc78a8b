-- JSON: same work as jsonrt.py with lua-cjson (Debian package lua-cjson, a C
-- library, as Python's json is C): decode the document (path in arg[1]),
-- encode it compactly. Prints: number of records, sum of ids and of scores,
-- length of the compact text in characters (utf8.len: Lua 5.4 only).
-- Set JSON_LIB=dkjson to use the pure-Lua dkjson (package lua-dkjson).
local lib = os.getenv("JSON_LIB") or "cjson"
local json = require(lib)
local f = assert(io.open(arg[1], "rb"))
local text = f:read("*a")
f:close()
-- dkjson turns null into nil (dropping the key) unless given its own null.
local doc
if lib == "dkjson" then
  doc = json.decode(text, 1, json.null)
else
  doc = json.decode(text)
end
local out = json.encode(doc)
local recs = doc.records
local ids, scores = 0, 0
for i = 1, #recs do
  ids = ids + recs[i].id
  scores = scores + recs[i].score
end
print(string.format("%d %d %d %d", #recs, ids, scores, utf8.len(out)))
