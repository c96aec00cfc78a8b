-- mapfold: same work as mapfold.jue. A list is nil or a cons cell
-- {car, cdr}. map and foldl are written as a Lua programmer would for such
-- lists: loops; map builds its fresh list front to back in one pass,
-- setting the cdr of the last new cell (one allocation per element).
-- Checksum = 1001000000.
local function iota1(n)
  local l = nil
  for i = n, 1, -1 do
    l = { i, l }
  end
  return l
end

local function map(f, l)
  if l == nil then
    return nil
  end
  local head = { f(l[1]), nil }
  local last = head
  l = l[2]
  while l ~= nil do
    local cell = { f(l[1]), nil }
    last[2] = cell
    last = cell
    l = l[2]
  end
  return head
end

local function foldl(f, acc, l)
  while l ~= nil do
    acc = f(acc, l[1])
    l = l[2]
  end
  return acc
end

local xs = iota1(1000)

local function round(r)
  return foldl(function(acc, x) return acc + x end,
               0,
               map(function(x) return x + r end, xs))
end

local function rounds(r, acc)
  if r > 1000 then
    return acc
  end
  return rounds(r + 1, acc + round(r))
end

print(rounds(1, 0))
