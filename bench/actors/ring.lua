-- Ring: 1,000 actors in a ring pass a counter 1,000,000 times. Actor i
-- receives n and sends n - 1 to actor i + 1 (the last to the first); the
-- one that receives 0 sends its number to the main actor, which prints it
-- and the hop count: "1 1000000" (1,000,000 is a multiple of 1,000, so the
-- counter ends where it started). Arguments: [ACTORS] [HOPS].
local dir = arg[0]:match("^(.*)/") or "."
local S = dofile(dir .. "/sched.lua")
local N = tonumber(arg[1]) or 1000
local M = tonumber(arg[2]) or 1000000

local result = S.run(function()
  local main = S.self()
  local actors = {}
  local function node(i)
    local nxt = nil
    while true do
      local n = S.receive()
      if not nxt then nxt = actors[i % N + 1] end
      if n == 0 then
        S.send(main, i)
        return
      end
      S.send(nxt, n - 1)
    end
  end
  for i = 1, N do
    actors[i] = S.spawn(node, i)
  end
  S.send(actors[1], M)
  return S.receive()
end)
print(string.format("%d %d", result, M))
