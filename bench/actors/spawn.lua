-- Spawn: start 100,000 actors, each returning twice its argument, then await
-- every one and sum the results. All are alive at once before the first
-- runs. Prints the count and the sum: "100000 10000100000". Argument: [ACTORS].
local dir = arg[0]:match("^(.*)/") or "."
local S = dofile(dir .. "/sched.lua")
local N = tonumber(arg[1]) or 100000

local function work(i)
  return 2 * i
end

local sum = S.run(function()
  local actors = {}
  for i = 1, N do
    actors[i] = S.spawn(work, i)
  end
  local s = 0
  for i = 1, N do
    s = s + S.await(actors[i])
  end
  return s
end)
print(string.format("%d %d", N, sum))
