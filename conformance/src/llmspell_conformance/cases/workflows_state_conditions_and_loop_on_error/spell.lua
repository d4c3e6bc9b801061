local router = Workflow.conditional{name = "router", branches = {
  {when = {input = true, gte = 10}, step = function(x) return "big:" .. x end},
  {when = {all = {{state = "mode", equals = "fast"}, {state = "missing", exists = false}}},
   step = function(x) return "fast:" .. x end},
}, default = function(x) return "slow:" .. x end}
State.set("mode", "fast")
local routes = {router:run("x").data}
State.set("mode", "careful")
routes[2] = router:run("x").data
routes[3] = router:run(12).data

local function body(n)
  if type(n) == "table" then return "error seen" end
  if n >= 4 then Tool.call("fail", {code = "tool_error"}) end
  return Tool.call("record", {value = n * 2})
end
local function loop(on_error)
  return Workflow.loop{name = "l_" .. on_error, body = body, on_error = on_error, max_iterations = 5,
                       ["until"] = {input = true, equals = "error seen"}}
end
local broken = loop("break"):run(1).data
local continued = loop("continue"):run(1).data
local ok, err = pcall(function() return loop("fail"):run(1) end)
return {routes = routes, broken = broken, continued = continued, failed = err.code}
