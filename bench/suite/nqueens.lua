-- nqueens: all solutions of 8-queens (92), list-based, repeated 50 times
-- (same algorithm as nqueens.jue). A list is nil or a cons cell {car, cdr}.
-- `append` copies its first list as Jue's built-in does. Checksum = 4600.
local function iota1(n)
  local l = nil
  for i = n, 1, -1 do
    l = { i, l }
  end
  return l
end

local function append(a, b)
  if a == nil then
    return b
  end
  return { a[1], append(a[2], b) }
end

local function ok(row, dist, placed)
  if placed == nil then
    return true
  end
  return placed[1] ~= row + dist
    and placed[1] ~= row - dist
    and ok(row, dist + 1, placed[2])
end

local function try_it(x, y, z)
  if x == nil then
    if y == nil then return 1 else return 0 end
  end
  local a
  if ok(x[1], 1, z) then
    a = try_it(append(x[2], y), nil, { x[1], z })
  else
    a = 0
  end
  return a + try_it(x[2], { x[1], y }, z)
end

local function queens(n)
  return try_it(iota1(n), nil, nil)
end

local function rep(i, acc)
  if i == 0 then
    return acc
  end
  return rep(i - 1, acc + queens(8))
end

print(rep(50, 0))
