-- fib: recursive Fibonacci, fib(30) = 832040 (same work as fib.jue).
-- A local function: Lua's idiomatic (and fastest) way to name a function,
-- as Jue resolves a global to a slot at compile time.
local function fib(n)
  if n < 2 then
    return n
  end
  return fib(n - 1) + fib(n - 2)
end

print(fib(30))
