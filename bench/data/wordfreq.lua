-- Word frequency over the text of gen_text.py (path in arg[1]): split at
-- white space (gmatch "%S+"), count each word in a table. Prints: total
-- words, distinct words, the most frequent word and its count (ties: the
-- smallest word). Runs under lua5.4 and luajit.
local f = assert(io.open(arg[1], "rb"))
local text = f:read("*a")
f:close()
local counts = {}
for w in text:gmatch("%S+") do
  counts[w] = (counts[w] or 0) + 1
end
local total, distinct, best, best_n = 0, 0, nil, -1
for w, n in pairs(counts) do
  total = total + n
  distinct = distinct + 1
  if n > best_n or (n == best_n and w < best) then
    best, best_n = w, n
  end
end
print(string.format("%d %d %s %d", total, distinct, best, best_n))
