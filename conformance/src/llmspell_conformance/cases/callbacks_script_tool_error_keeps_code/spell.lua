Tool.define{name = "guarded", description = "Fails through a host call.", run = function(args)
  Tool.call("fail", {code = "permission_denied", message = "denied inside"})
  Tool.call("record", {value = "never"})
end}
Tool.define{name = "broken", description = "Raises a script error.", run = function(args)
  error("broken on purpose")
end}
local _, e1 = pcall(Tool.call, "guarded", {})
local _, e2 = pcall(Tool.call, "broken", {})
return {e1.code, e1.message:sub(-13) == "denied inside", e2.code}
