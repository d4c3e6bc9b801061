-- llmspell Lua prelude: binds the spell API (DESIGN.md §4) to Lua globals.
--
-- This chunk runs once per spell, in the runtime's real global table, BEFORE the sandbox is
-- built; it captures every privileged function it needs (debug.*, raw coroutine functions) as
-- upvalues, then returns `setup(config)`, which builds the spell's whitelisted
-- environment and the driver functions the Python side uses. Spell code never sees `debug`,
-- the real `load`, or any Python object.
--
-- Protocol: every host operation is `coroutine.yield({__bridge = TOKEN, op = name, args = {...}})`
-- from the coroutine of the current script task; the Python driver resumes it with
-- `(true, value)` or `(false, error_table)`.

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

  -- ------------------------------------------------------------- requests --------------------
  local function request(op, ...)
    local ok, value = co_yield({ __bridge = TOKEN, op = op, args = pack(...) })
    if ok then return value end
    raw_error(value, 2)
  end

  local function is_request(co, r)
    local req = r[2]
    return r.n >= 2 and type(req) == "table" and rawget(req, "__bridge") == TOKEN
      and co_status(co) == "suspended"
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
        r = pack(co_resume(co, co_yield(r[2])))
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
  function Agent.create(spec) return request("agent.create", spec) end
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

  -- Resume `co` for one slice. Returns "request", op, args, n | "done", value |
  -- "error", err, line | "limit", name | "yield".
  function driver.step(id, ...)
    local co = tasks[id]
    if limit_hit then return "limit", limit_hit.limit end
    local r
    if cpu_limit then
      slice_start = clock()
      r = pack(co_resume(co, ...))
      used = used + (clock() - slice_start)
      slice_start = nil
    else
      r = pack(co_resume(co, ...))
    end
    if limit_hit then return "limit", limit_hit.limit end
    if r[1] then
      if co_status(co) == "dead" then return "done", r[2] end
      if is_request(co, r) then
        local req = r[2]
        return "request", req.op, req.args, req.args.n
      end
      return "yield"
    end
    if fatal(r[2]) then return "limit", limit_hit.limit end
    return "error", r[2], where(co)
  end

  -- classification of a table for conversion to Python
  function driver.classify(t)
    if rawequal(t, NULL) then return "null", "", 0 end
    local ptr = string_format("%p", t)
    local n = rawlen(t)
    local count, array = 0, true
    for k in next, t do
      count = count + 1
      if array and not (math_type(k) == "integer" and k >= 1 and k <= n) then array = false end
    end
    if count == 0 then
      if debug_getmetatable(t) == ARRAY_MT then return "array", ptr, 0 end
      return "object", ptr, 0
    end
    if array and count == n then return "array", ptr, n end
    return "object", ptr, count
  end

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
