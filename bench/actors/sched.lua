-- A minimal actor scheduler on Lua coroutines, shared by ring.lua, spawn.lua
-- and idle.lua: what a Lua programmer writes to get Jue's §9 model (one
-- FIFO mailbox per actor, a FIFO run queue, `receive` blocks until a
-- message arrives, `await` gives an actor's result). Cooperative: an actor
-- runs until it blocks or ends (Jue also preempts after 2,000 steps; no
-- actor here runs that long between blocking). Runs under lua5.4 and luajit.
local create, resume, yield = coroutine.create, coroutine.resume, coroutine.yield

local S = {}
local runq, rq_head, rq_tail = {}, 1, 0
local current = nil
local next_id = 0

local function ready(a)
  rq_tail = rq_tail + 1
  runq[rq_tail] = a
end

-- spawn(f, arg): a new actor running f(arg), at the back of the run queue.
function S.spawn(f, arg)
  next_id = next_id + 1
  local a = { id = next_id, mbox = {}, head = 1, tail = 0,
              waiting = false, done = false, result = nil, awaiters = nil }
  a.co = create(function()
    a.result = f(arg)
    a.done = true
    local w = a.awaiters
    if w then
      for i = 1, #w do ready(w[i]) end
      a.awaiters = nil
    end
  end)
  ready(a)
  return a
end

-- send(a, msg): append to a's mailbox, wake it if it waits; false if a ended.
function S.send(a, msg)
  if a.done then
    return false
  end
  local t = a.tail + 1
  a.tail = t
  a.mbox[t] = msg
  if a.waiting then
    a.waiting = false
    ready(a)
  end
  return true
end

-- receive(): the oldest message of the calling actor, waiting for one.
function S.receive()
  local a = current
  while a.head > a.tail do
    a.waiting = true
    yield()
  end
  local h = a.head
  local msg = a.mbox[h]
  a.mbox[h] = nil
  a.head = h + 1
  return msg
end

-- await(a): a's result, waiting for it to end.
function S.await(a)
  while not a.done do
    local w = a.awaiters
    if not w then w = {}; a.awaiters = w end
    w[#w + 1] = current
    yield()
  end
  return a.result
end

function S.self()
  return current
end

-- run(main): run main as actor 0's body until the run queue is empty; its
-- result. Actors still waiting in receive then are simply dropped.
function S.run(main)
  local m = S.spawn(main)
  while rq_head <= rq_tail do
    local a = runq[rq_head]
    runq[rq_head] = nil
    rq_head = rq_head + 1
    current = a
    local ok, err = resume(a.co)
    if not ok then
      error(err)
    end
  end
  return m.result
end

return S
