-- hostcall: loop.lua with one call to a C function per iteration instead of
-- `+`: 10,000,000 calls through the C API. Checksum = 10000000.
--
-- Why os.difftime: Jue's `add` is a host function that takes two integers,
-- checks them and returns a number; os.difftime(a, b) is a plain
-- lua_CFunction in both Lua 5.4 and LuaJIT that checks two numbers and
-- returns a - b, so difftime(acc, -1) is acc + 1 with exactly one C call.
-- math.max or string.len would be shorter, but LuaJIT's interpreter runs
-- those as assembler fast paths that never go through the C API, so they
-- would not measure a host call. It is looked up once into a local, as Jue
-- resolves FFI names at compile time.
-- Lua 5.4's difftime returns a float, hence the %d when printing.
local difftime = os.difftime

local function count(i, acc)
  if i == 0 then
    return acc
  end
  return count(i - 1, difftime(acc, -1))
end

print(string.format("%d", count(10000000, 0)))
