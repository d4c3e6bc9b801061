local running, overlap = 0, false
local function branch(name)
  return function(x)
    running = running + 1
    if running > 1 then overlap = true end
    Tool.call("wait", {seconds = 0.15})
    running = running - 1
    return name
  end
end
local flow = Workflow.parallel{name = "one_at_a_time", max_concurrency = 1,
                               branches = {a = branch("a"), b = branch("b")}}
local data = flow:run("x").data
return {a = data.a, b = data.b, overlap = overlap}
