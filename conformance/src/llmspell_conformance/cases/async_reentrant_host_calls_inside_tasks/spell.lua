Tool.define{
  name = "relay",
  description = "Wait, record n and return twice n.",
  parameters = {type = "object", properties = {n = {type = "integer"}}, required = {"n"}},
  run = function(args)
    Tool.call("wait", {seconds = 0.3, label = "relay " .. math.floor(args.n / 10)})
    return Tool.call("record", {value = args.n}) * 2
  end,
}
local function via_relay(n) return function() return Tool.call("relay", {n = n}) end end
return Task.all{via_relay(10), Task.spawn(function() return Tool.call("relay", {n = 20}) end), via_relay(30)}
