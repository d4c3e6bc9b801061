-- llmspell Lua prelude: binds the spell API (DESIGN.md §4) to Lua globals.
--
-- This chunk runs once per spell, in the runtime's real global table, BEFORE the sandbox is
-- built; it captures every privileged function it needs (debug.*, raw coroutine functions) as
-- upvalues, then returns `setup(config)`, which builds the spell's whitelisted
-- environment and the driver functions the Python side uses. Spell code never sees `debug`,
-- the real `load`, or any Python object.
--
-- Protocol: every host operation is `coroutine.yield(TOKEN, op, arg1, ..., argN)` from the
-- coroutine of the current script task (TOKEN is a private table no spell code can reach); the
-- Python driver resumes it with `(true, value)` or `(false, error_table)`.

local debug_sethook, debug_getinfo = debug.sethook, debug.getinfo
local debug_getmetatable = debug.getmetatable
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_status, co_running, co_isyieldable, co_close =
  coroutine.status, coroutine.running, coroutine.isyieldable, coroutine.close
local clock = os.clock
local pack, unpack, concat = table.pack, table.unpack, table.concat
local raw_pcall, raw_xpcall, raw_error = pcall, xpcall, error
local raw_setmetatable, raw_getmetatable, raw_load = setmetatable, getmetatable, load
local type, select, tostring, rawget, rawset, rawlen, rawequal, next, pairs, ipairs =
  type, select, tostring, rawget, rawset, rawlen, rawequal, next, pairs, ipairs
local string_format, string_find = string.format, string.find
local string_byte = string.byte
local utf8_len = utf8.len
local raw_find, raw_match, raw_gmatch, raw_gsub = string.find, string.match, string.gmatch, string.gsub
local math_type = math.type
local G = _G

-- no bytecode can ever be produced
string.dump = nil

return function(config)
  local filename = config.filename
  local cpu_limit = config.cpu_seconds
  local max_depth = config.max_depth
  local hook_count = config.hook_count or 1000
  local wall_deadline = config.wall_deadline   -- os.time() after which the run is over
  local os_time = os.time
  local pattern_budget = config.pattern_budget or 100000000

  local TOKEN = {}
  local ERROR_MT = {
    __name = "llmspell.error",
    __tostring = function(e)
      return tostring(rawget(e, "code")) .. ": " .. tostring(rawget(e, "message"))
    end,
  }
  local ARRAY_MT = { __name = "JSON.array" }
  local NULL = raw_setmetatable({}, {
    __name = "JSON.null",
    __tostring = function() return "null" end,
    __newindex = function() raw_error("JSON.null is read-only", 2) end,
    __metatable = "JSON.null",
  })

  -- ---------------------------------------------------------------- limits -------------------
  local limit_hit = nil          -- set once a limit is reached: {limit = name}; fatal for all
  local used = 0                 -- CPU seconds spent inside Lua in finished slices
  local slice_start = nil        -- os.clock() when the current slice started

  local function fatal(err)
    -- true when `err` (or the state) means a limit was reached; never catchable by the spell
    if limit_hit then return true end
    if err == "not enough memory" then
      limit_hit = { limit = "memory_bytes" }
      return true
    end
    if type(err) == "string" and string_find(err, "stack overflow$") then
      limit_hit = { limit = "max_depth" }
      return true
    end
    return false
  end

  local function hook()
    if limit_hit then raw_error(limit_hit, 0) end
    if cpu_limit and slice_start and used + (clock() - slice_start) > cpu_limit then
      limit_hit = { limit = "cpu_seconds" }
      raw_error(limit_hit, 0)
    end
    if wall_deadline and os_time() > wall_deadline then
      limit_hit = { limit = "wall_seconds" }
      raw_error(limit_hit, 0)
    end
    -- level 1 is this hook, level 2 the running function: depth d means levels 2..d+1 exist
    if max_depth and debug_getinfo(max_depth + 2, "l") then
      limit_hit = { limit = "max_depth" }
      raw_error(limit_hit, 0)
    end
  end

  local function create(f)
    local co = co_create(f)
    if cpu_limit or max_depth or wall_deadline then debug_sethook(co, hook, "", hook_count) end
    return co
  end

  -- -------------------------------------------------------------- errors ---------------------
  local function new_error(code, message, details)
    return raw_setmetatable({ code = code, message = message, details = details or {} }, ERROR_MT)
  end

  local function argerror(message, level)
    raw_error(new_error("invalid_args", message), (level or 1) + 1)
  end

  -- ------------------------------------------------------- pattern cost guard --------------
  -- string.find/match/gmatch/gsub run in C: the count hook cannot stop a catastrophic
  -- backtracking pattern. Before running one, estimate its worst-case number of matcher steps
  -- and refuse it (code `limit`, details.limit = "pattern_cost") above `pattern_budget`.
  --
  -- Rule: let m be the number of items that can backtrack over the subject and are followed by
  -- another item (a single-character class with `*`, `+` or `-` that is not the last item of
  -- the pattern; `%b` counts wherever it is), plus 1 unless the pattern is anchored with `^`
  -- (every start position is tried). Each of those m choice points picks a position in the
  -- subject (length n) in order, so the matcher tries at most C(n + m, m) combinations; every
  -- `?` doubles that. estimate = C(n + m, m) * 2^(number of `?`).

  -- index just past the set whose "[" is at p[i] (nil when the set is not closed)
  local function set_end(p, i, len)
    i = i + 1
    if string_byte(p, i) == 94 then i = i + 1 end             -- [^
    repeat
      if i > len then return nil end
      local c = string_byte(p, i)
      i = i + 1
      if c == 37 then i = i + 1 end                             -- %x inside a set
    until string_byte(p, i) == 93                               -- ]
    return i + 1
  end

  local function pattern_cost(n, p, anchorable)
    local len, i = #p, 1
    local m, opt, pending = 1, 0, false
    if anchorable and string_byte(p, 1) == 94 then m, i = 0, 2 end  -- ^ anchor
    while i <= len do
      local c = string_byte(p, i)
      if c == 40 or c == 41 then                                -- ( ) captures
        i = i + 1
      else
        if pending then m, pending = m + 1, false end           -- a backtracking item is followed
        if c == 36 and i == len then                            -- $ anchor
          i = i + 1
        elseif c == 37 and string_byte(p, i + 1) == 98 then     -- %bxy: a scan over the subject
          m, i = m + 1, i + 4
        elseif c == 37 and string_byte(p, i + 1) == 102 then    -- %f[set]
          i = set_end(p, i + 2, len)
          if not i then return 0 end
        elseif c == 37 and (string_byte(p, i + 1) or 0) >= 48 and string_byte(p, i + 1) <= 57 then
          i = i + 2                                             -- %1 back-reference
        else
          if c == 91 then i = set_end(p, i, len)                -- [set]
          elseif c == 37 then i = i + 2                         -- %a, %%
          else i = i + 1 end                                    -- . or a character
          if not i then return 0 end
          local q = string_byte(p, i)
          if q == 42 or q == 43 or q == 45 then                 -- * + -
            pending, i = true, i + 1
          elseif q == 63 then                                   -- ?
            opt, i = opt + 1, i + 1
          end
        end
      end
    end
    local cost = 2.0 ^ opt
    for j = 1, m do cost = cost * (n + j) / j end               -- C(n + m, m)
    return cost
  end

  local function check_pattern(fname, s, p, anchorable)
    local ts, tp = type(s), type(p)
    if (ts ~= "string" and ts ~= "number") or (tp ~= "string" and tp ~= "number") then
      return  -- the real function reports the bad argument
    end
    local n = #tostring(s)
    local cost = pattern_cost(n, tostring(p), anchorable)
    if cost > pattern_budget then
      raw_error(new_error("limit",
        string_format("%s: the pattern is too costly to run on a subject of %d bytes "
          .. "(estimated %.3g matcher steps, budget %.3g; pattern_cost limit)",
          fname, n, cost, pattern_budget),
        { limit = "pattern_cost", ["function"] = fname, subject_length = n,
          budget = pattern_budget }), 3)
    end
  end

  local function guarded_find(s, p, init, plain)
    if not plain then check_pattern("string.find", s, p, true) end
    return raw_find(s, p, init, plain)
  end
  local function guarded_match(s, p, init)
    check_pattern("string.match", s, p, true)
    return raw_match(s, p, init)
  end
  local function guarded_gmatch(s, p, init)
    check_pattern("string.gmatch", s, p, false)
    return raw_gmatch(s, p, init)
  end
  local function guarded_gsub(s, p, repl, n)
    check_pattern("string.gsub", s, p, true)
    return raw_gsub(s, p, repl, n)
  end

  -- ------------------------------------------------------------- requests --------------------
  -- no table is allocated for a request: the token, the operation and its arguments are the
  -- values yielded
  local function request(op, ...)
    local ok, value = co_yield(TOKEN, op, ...)
    if ok then return value end
    raw_error(value, 2)
  end

  local function is_request(co, r)
    return r.n >= 2 and rawequal(r[2], TOKEN) and co_status(co) == "suspended"
  end

  -- ------------------------------------------------- pcall / coroutines for spells ----------
  local function checked(r)
    if not r[1] and fatal(r[2]) then raw_error(limit_hit, 0) end
    return unpack(r, 1, r.n)
  end

  local function pcall_(f, ...)
    return checked(pack(raw_pcall(f, ...)))
  end

  local function xpcall_(f, handler, ...)
    local function guard(e)
      if fatal(e) then return e end
      return handler(e)
    end
    return checked(pack(raw_xpcall(f, guard, ...)))
  end

  -- coroutine.resume for spell coroutines: bridge requests are forwarded up to the driver
  local function resume(co, ...)
    local r = pack(co_resume(co, ...))
    while true do
      if r[1] then
        if not is_request(co, r) then return unpack(r, 1, r.n) end
        r = pack(co_resume(co, co_yield(unpack(r, 2, r.n))))
      else
        if fatal(r[2]) then raw_error(limit_hit, 0) end
        return false, r[2]
      end
    end
  end

  local function wrap(f)
    local co = create(f)
    return function(...)
      local r = pack(resume(co, ...))
      if r[1] then return unpack(r, 2, r.n) end
      raw_error(r[2], 0)
    end
  end

  local function yield_(...)
    return co_yield(...)
  end

  -- -------------------------------------------------------------- handles --------------------
  local methods = {}
  local HANDLE_MT = {}
  local function handle_mt(kind)
    local mt = HANDLE_MT[kind]
    if not mt then
      local m = methods[kind] or {}
      mt = {
        __name = "llmspell." .. kind,
        __index = m,
        __tostring = function(h)
          return kind .. "<" .. tostring(rawget(h, "name") or rawget(h, "__handle")) .. ">"
        end,
      }
      HANDLE_MT[kind] = mt
    end
    return mt
  end

  local function make_handle(t)
    return raw_setmetatable(t, handle_mt(rawget(t, "kind")))
  end

  local function need_function(fn, what, level)
    if type(fn) ~= "function" then
      argerror(what .. ": expected a function, got " .. type(fn), (level or 1) + 1)
    end
  end

  -- ------------------------------------------------------------------- API ------------------
  local JSON = {}
  JSON.null = NULL
  function JSON.array(t)
    t = t or {}
    if type(t) ~= "table" then argerror("JSON.array: expected a table, got " .. type(t), 2) end
    return raw_setmetatable(t, ARRAY_MT)
  end
  function JSON.is_null(v) return rawequal(v, NULL) end
  -- JSON is done by the driver (Python's json through the one converter), not by the host
  function JSON.parse(text)
    if type(text) ~= "string" then argerror("JSON.parse: expected a string, got " .. type(text), 2) end
    return request("json.parse", text)
  end
  function JSON.stringify(value, indent) return request("json.stringify", value, indent) end

  local Tool = {}
  function Tool.call(name, args) return request("tool.call", name, args) end
  function Tool.list(filter) return request("tool.list", filter) end
  function Tool.info(name) return request("tool.info", name) end
  function Tool.define(spec, fn)
    if type(spec) ~= "table" then
      argerror("Tool.define: expected a table {name, description, parameters, run}", 2)
    end
    fn = fn or rawget(spec, "run")
    need_function(fn, "Tool.define run", 2)
    local copy = {}
    for k, v in pairs(spec) do if k ~= "run" then copy[k] = v end end
    return request("tool.define", copy, fn)
  end

  local Agent = {}
  function Agent.create(spec)
    -- Lua functions cross only as arguments: guardrail functions go as the 2nd and 3rd
    local g = type(spec) == "table" and rawget(spec, "guardrails")
    if type(g) ~= "table" then return request("agent.create", spec) end
    local input, output, rest, copy = nil, nil, {}, {}
    for k, v in pairs(g) do
      if k == "input" and type(v) == "function" then input = v
      elseif k == "output" and type(v) == "function" then output = v
      else rest[k] = v end
    end
    for k, v in pairs(spec) do copy[k] = v end
    copy.guardrails = next(rest) ~= nil and rest or nil
    return request("agent.create", copy, input, output)
  end
  function Agent.get(name) return request("agent.get", name) end
  function Agent.list() return request("agent.list") end
  methods.agent = {
    run = function(self, input, opts) return request("agent.run", self, input, opts) end,
    stream = function(self, input, on_chunk)
      need_function(on_chunk, "agent:stream on_chunk", 2)
      return request("agent.stream", self, input, on_chunk)
    end,
    as_tool = function(self, spec) return request("agent.as_tool", self, spec) end,
  }

  local Workflow = {}
  local function no_threads(v, seen)
    if type(v) == "thread" then argerror("a coroutine cannot be a workflow step", 4) end
    if type(v) == "table" and not seen[v] then
      seen[v] = true
      for _, item in pairs(v) do no_threads(item, seen) end
    end
  end
  for _, kind in ipairs({ "sequential", "parallel", "conditional", "loop" }) do
    Workflow[kind] = function(spec)
      no_threads(spec, {})
      return request("workflow." .. kind, spec)
    end
  end
  methods.workflow = {
    run = function(self, input) return request("workflow.run", self, input) end,
    as_tool = function(self, spec) return request("agent.as_tool", self, spec) end,
  }

  local State = {}
  function State.get(key, scope) return request("state.get", key, scope) end
  function State.set(key, value, scope) return request("state.set", key, value, scope) end
  function State.delete(key, scope) return request("state.delete", key, scope) end
  function State.keys(scope) return request("state.keys", scope) end

  local Artifact = {}
  function Artifact.save(name, content, opts) return request("artifact.save", name, content, opts) end
  function Artifact.load(name, opts) return request("artifact.load", name, opts) end
  function Artifact.list(opts) return request("artifact.list", opts) end

  local Event = {}
  function Event.emit(topic, data) return request("event.emit", topic, data) end
  function Event.on(pattern, fn)
    need_function(fn, "Event.on handler", 2)
    return request("event.on", pattern, fn)
  end
  function Event.off(handle) return request("event.off", handle) end
  function Event.wait(pattern, timeout) return request("event.wait", pattern, timeout) end
  methods.subscription = { off = function(self) return request("event.off", self) end }

  local Hook = {}
  function Hook.on(point, fn, opts)
    need_function(fn, "Hook.on handler", 2)
    return request("hook.on", point, fn, opts)
  end
  function Hook.off(handle) return request("hook.off", handle) end
  methods.hook = { off = function(self) return request("hook.off", self) end }

  local Task = {}
  function Task.spawn(fn, ...)
    need_function(fn, "Task.spawn", 2)
    local n = select("#", ...)
    if n > 0 then
      local a, f = pack(...), fn
      fn = function() return f(unpack(a, 1, a.n)) end
    end
    return request("task.spawn", fn)
  end
  function Task.sleep(seconds) return request("task.sleep", seconds) end
  function Task.wait(handle) return request("task.wait", handle) end
  function Task.cancel(handle) return request("task.cancel", handle) end
  local function task_list(list, what)
    if type(list) ~= "table" then argerror(what .. ": expected a list", 3) end
    for i, item in ipairs(list) do
      if type(item) ~= "function" and type(item) ~= "table" then
        argerror(what .. ": item " .. i .. " must be a function or a task, got " .. type(item), 3)
      end
    end
    return JSON.array(list)
  end
  function Task.all(list) return request("task.all", task_list(list, "Task.all")) end
  function Task.race(list) return request("task.race", task_list(list, "Task.race")) end
  function Task.timeout(seconds, fn)
    need_function(fn, "Task.timeout", 2)
    return request("task.timeout", seconds, fn)
  end
  methods.task = {
    wait = function(self) return request("task.wait", self) end,
    cancel = function(self) return request("task.cancel", self) end,
  }

  local Log = {}
  for _, level in ipairs({ "debug", "info", "warn", "error" }) do
    Log[level] = function(message, data) return request("log", level, tostring(message), data) end
  end

  local function print_(...)
    local n = select("#", ...)
    local parts = {}
    for i = 1, n do parts[i] = tostring((select(i, ...))) end
    return request("print", concat(parts, "\t"))
  end

  -- --------------------------------------------------------------- sandbox ------------------
  local env = {}
  for _, name in ipairs({
    "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawget", "rawlen", "rawset",
    "select", "tonumber", "tostring", "type", "getmetatable", "_VERSION",
  }) do
    env[name] = G[name]
  end
  local function copy(lib)
    local t = {}
    for k, v in pairs(lib) do t[k] = v end
    return t
  end
  env.string = copy(string)
  env.string.find, env.string.match = guarded_find, guarded_match
  env.string.gmatch, env.string.gsub = guarded_gmatch, guarded_gsub
  -- the method form ("x"):find(...) goes through the string metatable: guard it too
  raw_getmetatable("").__index = env.string
  env.table = copy(table)
  env.math = copy(math)
  env.utf8 = copy(utf8)
  env.os = { time = os.time, clock = os.clock, date = os.date }
  env.coroutine = {
    create = create, resume = resume, wrap = wrap, yield = yield_, status = co_status,
    running = co_running, isyieldable = co_isyieldable, close = co_close,
  }
  env.pcall = pcall_
  env.xpcall = xpcall_
  env.setmetatable = function(t, mt)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
      raw_error("setmetatable: __gc metamethods are not allowed in spells", 2)
    end
    return raw_setmetatable(t, mt)
  end
  env.load = function(chunk, name, mode, ...)
    if mode ~= nil and mode ~= "t" then
      raw_error("load: only text chunks are allowed (mode \"t\"), not " .. tostring(mode), 2)
    end
    local e = env
    if select("#", ...) > 0 then e = ... end
    return raw_load(chunk, name, "t", e)
  end
  local gc_options = { collect = true, count = true, step = true, isrunning = true }
  env.collectgarbage = function(opt, ...)
    opt = opt or "collect"
    if not gc_options[opt] then
      raw_error("collectgarbage: option '" .. tostring(opt) .. "' is not allowed in spells", 2)
    end
    return collectgarbage(opt, ...)
  end
  env.print = print_
  env.JSON, env.Tool, env.Agent, env.Workflow, env.State = JSON, Tool, Agent, Workflow, State
  env.Event, env.Hook, env.Task, env.Log = Event, Hook, Task, Log
  env.Artifact = Artifact
  env._G = env

  -- --------------------------------------------------------------- driver -------------------
  local driver = {}

  function driver.compile(source)
    return raw_load(source, "@" .. filename, "t", env)
  end

  -- script tasks' coroutines by id (threads never cross to Python)
  local tasks, next_id = {}, 0
  function driver.new_task(fn)
    next_id = next_id + 1
    tasks[next_id] = create(fn)
    return next_id
  end
  function driver.drop(id) tasks[id] = nil end

  -- The line of the innermost frame of the spell file in (dead or suspended) coroutine `co`.
  local function where(co)
    local level = 0
    while true do
      local info = debug_getinfo(co, level, "Sl")
      if not info then return nil end
      if info.source == "@" .. filename and info.currentline and info.currentline > 0 then
        return info.currentline
      end
      level = level + 1
    end
  end

  -- true when every value can be returned to Python as it is: lupa decodes returned strings
  -- as UTF-8 and would raise on others (those go through a table, checked by the converter)
  local function plain(...)
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      if type(v) == "string" and not utf8_len(v) then return false end
    end
    return true
  end

  -- The outcome of one resume of `co` (the values co_resume returned follow).
  local function stepped(co, ok, first, ...)
    if limit_hit then return "limit", limit_hit.limit end
    if ok then
      if co_status(co) == "dead" then return "done", first end
      if rawequal(first, TOKEN) then
        if plain(...) then return "request", ... end
        return "packed", ..., pack(select(2, ...))
      end
      return "yield"
    end
    if fatal(first) then return "limit", limit_hit.limit end
    if type(first) == "string" and not utf8_len(first) then
      first = raw_gsub(first, "[\128-\255]", "?")  -- lupa returns strings as UTF-8 only
    end
    return "error", first, where(co)
  end

  local function stepped_cpu(co, ...)
    used = used + (clock() - slice_start)
    slice_start = nil
    return stepped(co, ...)
  end

  -- Resume `co` for one slice. Returns "request", op, arg1, ..., argN |
  -- "packed", op, args (a table with `n`, when an argument is a string that is not UTF-8) |
  -- "done", value | "error", err, line | "limit", name | "yield".
  function driver.step(id, ...)
    local co = tasks[id]
    if limit_hit then return "limit", limit_hit.limit end
    if cpu_limit then
      slice_start = clock()
      return stepped_cpu(co, co_resume(co, ...))
    end
    return stepped(co, co_resume(co, ...))
  end

  -- The keys whose value was null in an object that came from the host (a Lua table cannot
  -- hold a nil member): converted back, such a key is null again unless the spell gave it a
  -- value. Weak keys: the mark goes with the table.
  local NULL_KEYS = raw_setmetatable({}, { __mode = "k" })

  -- classification of a table for conversion to Python: shape, identity, length, null keys
  function driver.classify(t)
    if rawequal(t, NULL) then return "null", "", 0, nil end
    local ptr = string_format("%p", t)
    local nulls = NULL_KEYS[t]
    local n = rawlen(t)
    local count, array = 0, true
    for k in next, t do
      count = count + 1
      if array and not (math_type(k) == "integer" and k >= 1 and k <= n) then array = false end
    end
    if count == 0 then
      if nulls == nil and debug_getmetatable(t) == ARRAY_MT then return "array", ptr, 0, nil end
      return "object", ptr, 0, nulls
    end
    if array and count == n and nulls == nil then return "array", ptr, n, nil end
    return "object", ptr, count, nulls
  end

  function driver.mark_nulls(t, keys) NULL_KEYS[t] = keys end

  function driver.new_array() return raw_setmetatable({}, ARRAY_MT) end
  driver.make_handle = make_handle
  driver.null = NULL
  function driver.new_error(code, message, details) return new_error(code, message, details) end
  function driver.is_error(t) return debug_getmetatable(t) == ERROR_MT end
  function driver.describe(f)
    local info = debug_getinfo(f, "S")
    return info.short_src .. ":" .. tostring(info.linedefined)
  end
  function driver.short_src()
    return debug_getinfo(driver.compile("return"), "S").short_src
  end
  -- never runs spell code (no metamethods): these run outside the limit hook
  function driver.tostring(v)
    local t = type(v)
    if t == "string" or t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
    local mt = debug_getmetatable(v)
    local name = type(mt) == "table" and rawget(mt, "__name")
    if type(name) == "string" then return name end
    return t
  end
  function driver.error_fields(e)
    if type(e) ~= "table" then return nil end
    local code, message = rawget(e, "code"), rawget(e, "message")
    if type(code) ~= "string" or type(message) ~= "string" then return nil end
    return code, message, rawget(e, "details")
  end
  function driver.typeof(v) return type(v) end
  function driver.set_global(name, value) env[name] = value end
  function driver.cpu_used() return used end

  return driver
end
