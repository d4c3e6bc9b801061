Tool.define{name = "greet", description = "Say hello.", run = function(args) return "hello" end}
local all = Tool.list()
local has_greet, has_record = false, false
for _, spec in ipairs(all) do
  if spec.name == "greet" then has_greet = true end
  if spec.name == "record" then has_record = true end
end
local names = {}
for _, spec in ipairs(Tool.list("script")) do names[#names + 1] = spec.name end
return {has_greet, has_record, names}
