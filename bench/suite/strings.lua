-- strings: same work as strings.jue: `s .. tostring(j) .. ","` is one
-- concatenation of three strings, as (string-append s (number->string j) ",")
-- is one call. Checksum = 2920000.
local function build(j, s)
  if j > 100 then
    return s
  end
  return build(j + 1, s .. tostring(j) .. ",")
end

local function rounds(r, acc)
  if r == 0 then
    return acc
  end
  return rounds(r - 1, acc + #build(1, ""))
end

print(rounds(10000, 0))
