Tool.define{
  name = "double",
  description = "Record a number and return it doubled.",
  parameters = {type = "object", properties = {x = {type = "integer"}}, required = {"x"}},
  run = function(args) return Tool.call("record", {value = args.x}) * 2 end,
}
return Tool.call("double", {x = 7})
