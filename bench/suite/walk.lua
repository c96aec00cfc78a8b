-- walk: same work as walk.jue: a non-tail recursive sum over a 10,000-element
-- cons list {car, cdr} (depth 10,000), repeated 1,000 times.
-- Checksum = 50005000000.
local function iota1(n)
  local l = nil
  for i = n, 1, -1 do
    l = { i, l }
  end
  return l
end

local function sum(l)
  if l == nil then
    return 0
  end
  return l[1] + sum(l[2])
end

local xs = iota1(10000)

local function rep(i, acc)
  if i == 0 then
    return acc
  end
  return rep(i - 1, acc + sum(xs))
end

print(rep(1000, 0))
