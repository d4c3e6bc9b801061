local function slow(label)
  return function(x)
    pcall(function() Tool.call("wait", {seconds = 5, label = label}) end)
    Tool.call("record", {value = label .. " went on"})
    return "never"
  end
end
local lenient = Workflow.sequential{name = "lenient", steps = {
  {fn = slow("slow"), name = "slow", timeout = 0.1, on_error = "continue"},
  function(prev) return prev.error.code .. ":" .. prev.error.details.step .. ":" .. prev.error.details.seconds end,
}}
local strict = Workflow.sequential{name = "strict", steps = {{fn = slow("strict"), timeout = 0.1}}}
local ok, err = pcall(function() return strict:run("x") end)
return {lenient:run("x").data, err.code}
