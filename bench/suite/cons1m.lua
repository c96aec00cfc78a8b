-- cons1m: not timed; peak RSS minus an empty program's, divided by 10^6, is
-- the memory per cons cell {car, cdr}. Checksum = 1000000.
local function build(i, acc)
  if i == 0 then
    return acc
  end
  return build(i - 1, { i, acc })
end

local xs = build(1000000, nil)
local n = 0
local l = xs
while l ~= nil do
  n = n + 1
  l = l[2]
end
print(n)
