-- Idle: 100,000 actors each waiting in receive with an empty mailbox; the
-- main actor lets them all start, then prints their count and ends. Peak RSS
-- minus that of `idle.lua 0`, over the count, is the memory of an idle
-- actor (coroutine, its actor record and mailbox). Argument: [ACTORS].
local dir = arg[0]:match("^(.*)/") or "."
local S = dofile(dir .. "/sched.lua")
local N = tonumber(arg[1]) or 100000

local waiting = 0
S.run(function()
  local function idle()
    waiting = waiting + 1
    return S.receive()
  end
  for i = 1, N do
    S.spawn(idle, i)
  end
end)
print(waiting)
