-- closure: same work as closure.jue: per round make two adder closures,
-- compose them into a third, apply it once. Checksum = 500001500000.
local function make_adder(n)
  return function(x) return x + n end
end

local function compose(f, g)
  return function(x) return f(g(x)) end
end

local function run(i, acc)
  if i > 1000000 then
    return acc
  end
  return run(i + 1, compose(make_adder(i), make_adder(1))(acc))
end

print(run(1, 0))
