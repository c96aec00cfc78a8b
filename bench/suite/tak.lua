-- tak: Takeuchi's function, tak(18, 12, 6) = 7, repeated 100 times
-- (same work as tak.jue). Checksum = 700.
local function tak(x, y, z)
  if not (y < x) then
    return z
  end
  return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
end

local function rep(i, acc)
  if i == 0 then
    return acc
  end
  return rep(i - 1, acc + tak(18, 12, 6))
end

print(rep(100, 0))
