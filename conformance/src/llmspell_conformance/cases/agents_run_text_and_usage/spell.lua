local agent = Agent.create{name = "greeter", model = "scripted/x", instructions = "Greet."}
local result = agent:run("hi")
local roles = {}
for _, m in ipairs(result.messages) do roles[#roles + 1] = m.role end
return {
  text = result.text,
  has_usage = result.usage.input_tokens > 0 and result.usage.output_tokens > 0,
  tool_calls = #result.tool_calls,
  agents = result.agents,
  roles = roles,
}
