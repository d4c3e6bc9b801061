-- llmspell-lua51 compatibility shim (LuaJIT 2.1 / Lua 5.1 dialect; also harmless on 5.2/5.3).
--
-- This chunk runs in the runtime's real globals BEFORE llmspell_lua's prelude (which is written
-- for Lua 5.4 and captures library functions as upvalues when it loads). It returns
-- `{internal = fn, restore = fn}`:
--   * what spells may use too is installed for good, only where missing (feature tests):
--     table.pack, table.unpack, rawlen, math.type, math.tointeger, math.maxinteger/mininteger,
--     utf8 (char, charpattern, codepoint, len, offset, codes), coroutine.close;
--   * `internal()` installs what only the prelude needs (string.format "%p", which the prelude
--     uses for table identity); `restore()` puts the native function back after the prelude's
--     top level has captured it, so spells see LuaJIT's own string.format.
-- Numbers: Lua 5.1 has one number type (a double). math.type(x) is "integer" for every integral
-- double (1.0 included) and "float" otherwise; math.maxinteger is 2^53 - 1.

local type, select, error, tostring, pairs = type, select, error, tostring, pairs
local setmetatable, rawequal = setmetatable, rawequal
local floor, huge = math.floor, math.huge
local s_char, s_byte, s_format = string.char, string.byte, string.format
local concat = table.concat

if not table.pack then
  table.pack = function(...) return { n = select("#", ...), ... } end
end
if not table.unpack then table.unpack = unpack end

if not rawlen then
  rawlen = function(v)
    local t = type(v)
    if t ~= "table" and t ~= "string" then
      error("table or string expected", 2)
    end
    return #v  -- Lua 5.1 never consults __len for tables or strings
  end
end

if not math.type then
  math.type = function(x)
    if type(x) ~= "number" then return nil end
    if x == floor(x) and x > -huge and x < huge then return "integer" end
    return "float"
  end
  math.maxinteger = 9007199254740991
  math.mininteger = -9007199254740991
  math.tointeger = function(x)
    if type(x) == "number" and x == floor(x) and x > -huge and x < huge then return x end
    return nil
  end
end

if not coroutine.close then
  -- a suspended or dead coroutine can be "closed": it reports "dead" and is never resumed
  -- again (Lua 5.1 has no to-be-closed variables to run)
  local co_status, co_resume = coroutine.status, coroutine.resume
  local closed = setmetatable({}, { __mode = "k" })
  coroutine.close = function(co)
    local s = co_status(co)
    if s == "suspended" or s == "dead" then
      closed[co] = true
      return true
    end
    error("cannot close a " .. s .. " coroutine", 2)
  end
  coroutine.status = function(co)
    if closed[co] then return "dead" end
    return co_status(co)
  end
  coroutine.resume = function(co, ...)
    if closed[co] then return false, "cannot resume dead coroutine" end
    return co_resume(co, ...)
  end
end

do
  -- LuaJIT does not bound nested coroutine.resume calls (each one nests on the C stack): a
  -- spell like `local function f() return coroutine.wrap(f)() end f()` overflows the C stack
  -- and kills the process with SIGSEGV, and the max_depth hook never sees it (each coroutine
  -- is only one or two frames deep). Lua 5.4 stops it with "C stack overflow" at 200 C levels;
  -- so does this: the resume fails with that message, which the prelude turns into the
  -- max_depth limit.
  local co_resume, nesting, MAX_NESTING = coroutine.resume, 0, 180
  local function leave(...)
    nesting = nesting - 1
    return ...
  end
  coroutine.resume = function(co, ...)
    if type(co) ~= "thread" then return co_resume(co, ...) end
    if nesting >= MAX_NESTING then return false, "C stack overflow" end
    nesting = nesting + 1
    return leave(co_resume(co, ...))
  end
end

if not utf8 then
  local M = {}
  M.charpattern = "[%z\1-\127\194-\244][\128-\191]*"

  local function encode(c)
    if type(c) ~= "number" or c ~= floor(c) or c < 0 or c > 0x7FFFFFFF then
      error("bad argument to 'char' (value out of range)", 3)
    end
    if c < 0x80 then return s_char(c) end
    if c < 0x800 then
      return s_char(0xC0 + floor(c / 0x40), 0x80 + c % 0x40)
    end
    if c < 0x10000 then
      return s_char(0xE0 + floor(c / 0x1000), 0x80 + floor(c / 0x40) % 0x40, 0x80 + c % 0x40)
    end
    if c < 0x110000 then
      return s_char(0xF0 + floor(c / 0x40000), 0x80 + floor(c / 0x1000) % 0x40,
        0x80 + floor(c / 0x40) % 0x40, 0x80 + c % 0x40)
    end
    error("bad argument to 'char' (value out of range)", 3)
  end

  function M.char(...)
    local out = {}
    for i = 1, select("#", ...) do out[i] = encode((select(i, ...))) end
    return concat(out)
  end

  -- decode the sequence starting at byte i: code point, next index (nil when invalid)
  local function decode(s, i)
    local c = s_byte(s, i)
    if not c then return nil end
    if c < 0x80 then return c, i + 1 end
    local n, cp, min
    if c >= 0xF0 and c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000
    elseif c >= 0xE0 then n, cp, min = 2, c - 0xE0, 0x800
    elseif c >= 0xC2 and c < 0xE0 then n, cp, min = 1, c - 0xC0, 0x80
    else return nil end
    for k = 1, n do
      local b = s_byte(s, i + k)
      if not b or b < 0x80 or b > 0xBF then return nil end
      cp = cp * 0x40 + (b - 0x80)
    end
    if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return nil end
    return cp, i + n + 1
  end

  local function posrelat(pos, len)
    if pos >= 0 then return pos end
    if -pos > len then return 0 end
    return len + pos + 1
  end

  function M.codepoint(s, i, j)
    s = tostring(s)
    i = posrelat(i or 1, #s)
    j = posrelat(j or i, #s)
    if i < 1 then error("bad argument #2 to 'codepoint' (out of bounds)", 2) end
    if j > #s then error("bad argument #3 to 'codepoint' (out of bounds)", 2) end
    local out, n, p = {}, 0, i
    while p <= j do
      local cp, nxt = decode(s, p)
      if not cp then error("invalid UTF-8 code", 2) end
      n = n + 1
      out[n] = cp
      p = nxt
    end
    return table.unpack(out, 1, n)
  end

  function M.len(s, i, j)
    s = tostring(s)
    local p = posrelat(i or 1, #s)
    j = posrelat(j or -1, #s)
    local n = 0
    while p <= j do
      local cp, nxt = decode(s, p)
      if not cp then return nil, p end
      n = n + 1
      p = nxt
    end
    return n
  end

  local function iscont(s, p)
    local b = s_byte(s, p)
    return b and b >= 0x80 and b <= 0xBF
  end

  function M.offset(s, n, i)
    s = tostring(s)
    local len = #s
    i = posrelat(i or (n >= 0 and 1 or len + 1), len)
    if i < 1 or i > len + 1 then error("bad argument #3 to 'offset' (position out of bounds)", 2) end
    if n == 0 then
      while i > 1 and iscont(s, i) do i = i - 1 end
      return i
    end
    if iscont(s, i) then error("initial position is a continuation byte", 2) end
    if n < 0 then
      while n < 0 and i > 1 do
        repeat i = i - 1 until i <= 1 or not iscont(s, i)
        n = n + 1
      end
    else
      n = n - 1
      while n > 0 and i <= len do
        repeat i = i + 1 until not iscont(s, i)
        n = n - 1
      end
    end
    if n == 0 then return i end
    return nil
  end

  function M.codes(s)
    s = tostring(s)
    return function(str, p)
      if p > 0 then
        local _, nxt = decode(str, p)
        p = nxt or p + 1
      else
        p = 1
      end
      if p > #str then return nil end
      local cp = decode(str, p)
      if not cp then error("invalid UTF-8 code", 2) end
      return p, cp
    end, s, 0
  end

  utf8 = M
end

-- string.format("%p", v) for the prelude only (it keys tables by identity with it)
local native_format = string.format
local function ok_p() return (pcall(native_format, "%p", {})) end
local ids, last_id = setmetatable({}, { __mode = "k" }), 0
local function format_p(fmt, ...)
  if fmt == "%p" then
    local v = ...
    local t = type(v)
    if t == "table" or t == "function" or t == "thread" or t == "userdata" then
      local id = ids[v]
      if not id then
        last_id = last_id + 1
        id = s_format("0x%x", last_id)
        ids[v] = id
      end
      return id
    end
    return "(null)"
  end
  return native_format(fmt, ...)
end

return {
  internal = function()
    if not ok_p() then string.format = format_p end
  end,
  restore = function()
    string.format = native_format
  end,
}
