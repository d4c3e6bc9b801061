local agent = Agent.create{
  name = "geo", model = "scripted/x",
  output_schema = {
    type = "object",
    properties = {city = {type = "string"}, population = {type = "integer"}},
    required = {"city"},
  },
}
local result = agent:run("largest city of Norway")
local ok, err = pcall(function() return agent:run("again") end)
return {result.data, err.code}
