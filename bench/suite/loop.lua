-- loop: a 10,000,000-iteration counting loop as a proper tail call (Lua runs
-- `return f(...)` in constant stack space), same work as loop.jue.
local function count(i, acc)
  if i == 0 then
    return acc
  end
  return count(i - 1, acc + 1)
end

print(count(10000000, 0))
