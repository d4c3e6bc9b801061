local events = {}
local sub = Event.on("workflow.step.*", function(e)
  if e.data.workflow == "flaky" then
    events[#events + 1] = {topic = e.topic, attempt = e.data.attempt, delay = e.data.delay,
                           code = e.data.error and e.data.error.code}
  end
end)
local n = 0
local flaky = Workflow.sequential{name = "flaky", steps = {{
  fn = function(x)
    n = n + 1
    Tool.call("record", {value = "attempt " .. n})
    if n < 3 then Tool.call("fail", {code = "tool_error"}) end
    return "ok on " .. n
  end,
  retry = {attempts = 3, backoff = 0.05, multiplier = 2},
}}}
local data = flaky:run("x").data
local m = 0
local hopeless = Workflow.sequential{name = "hopeless", steps = {{
  fn = function(x)
    m = m + 1
    Tool.call("record", {value = "give up " .. m})
    Tool.call("fail", {code = "not_found"})
  end,
  retry = {attempts = 2},
}}}
local ok, err = pcall(function() return hopeless:run("x") end)
Task.sleep(0.05)
sub:off()
return {data = data, exhausted = {err.code, err.details.attempts}, events = events}
