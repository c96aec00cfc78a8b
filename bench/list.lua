-- Build a 1,000,000-element sequence {1, 2, ..., 1000000} in a table, then
-- sum it with a loop (same work as list.jue). Sum = 500000500000.
local function build(n)
  local t = {}
  for i = 1, n do
    t[i] = i
  end
  return t
end

local function sum(t)
  local acc = 0
  for i = 1, #t do
    acc = acc + t[i]
  end
  return acc
end

print(sum(build(1000000)))
