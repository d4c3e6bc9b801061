Tool.define{
  name = "shout",
  description = "Upper-case a text.",
  parameters = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  run = function(args) return args.text:upper() end,
}
local info = Tool.info("shout")
return {name = info.name, description = info.description, category = info.category,
        parameters = info.parameters}
