-- listchurn: same work as listchurn.jue. A list is nil or a cons cell
-- {car, cdr}; reverse and length are the loops a Lua programmer would write
-- (Jue's are built-ins). Checksum = 4000000.
local function build(i, acc)
  if i == 0 then
    return acc
  end
  return build(i - 1, { i, acc })
end

local function reverse(l)
  local r = nil
  while l ~= nil do
    r = { l[1], r }
    l = l[2]
  end
  return r
end

local function length(l)
  local n = 0
  while l ~= nil do
    n = n + 1
    l = l[2]
  end
  return n
end

local function round()
  local ys = reverse(build(1000000, nil))
  return ys[1] + length(ys)
end

local function rounds(r, acc)
  if r == 0 then
    return acc
  end
  return rounds(r - 1, acc + round())
end

print(rounds(2, 0))
