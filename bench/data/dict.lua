-- Dictionary: same work as dict.py: 1,000,000 string keys "k1" ...
-- "k1000000" (made once into an array), insert key i -> i, look every key
-- up (sum), add 1 to the value of every even i, then sum all values (pairs).
-- A Lua table with string keys is Lua's dictionary (hash part only).
-- Prints: 1000000 500000500000 500001000000.
local N = 1000000
local keys = {}
for i = 1, N do
  keys[i] = "k" .. i
end
local d = {}
for i = 1, N do
  d[keys[i]] = i
end
local s1 = 0
for i = 1, N do
  s1 = s1 + d[keys[i]]
end
for i = 2, N, 2 do
  local k = keys[i]
  d[k] = d[k] + 1
end
local size, s2 = 0, 0
for _, v in pairs(d) do
  size = size + 1
  s2 = s2 + v
end
print(string.format("%d %d %d", size, s1, s2))
