Tool.define{
  name = "triple",
  description = "Triple an integer.",
  parameters = {type = "object", properties = {n = {type = "integer"}}, required = {"n"}},
  run = function(args) return Tool.call("record", {value = args.n}) * 3 end,
}
local _, missing = pcall(Tool.call, "triple", {})
local _, wrong = pcall(Tool.call, "triple", {n = "two"})
return {missing.code, wrong.code, Tool.call("triple", {n = 2})}
