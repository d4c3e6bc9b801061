local function test(label, pass)
  return function(n)
    Tool.call("record", {value = "test " .. label .. " " .. n})
    return pass(n)
  end
end
local router = Workflow.conditional{name = "router", branches = {
  {when = test("big", function(n) return n >= 10 end), step = function(n) return "big:" .. n end},
  {when = test("small", function(n) return n >= 0 end), step = function(n) return "small:" .. n end},
}, default = function(n) return "default:" .. n end}
return {router:run(50).data, router:run(5).data, router:run(-1).data}
