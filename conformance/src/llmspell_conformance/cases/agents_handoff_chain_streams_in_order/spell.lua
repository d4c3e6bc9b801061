local refunds = Agent.create{name = "refunds", model = "scripted/x"}
local billing = Agent.create{name = "billing", model = "scripted/x",
                             handoffs = {{agent = refunds, keep_last = 2}}}
local triage = Agent.create{name = "triage", model = "scripted/x", handoffs = {billing}}
local pieces = {}
local r = triage:stream("refund please", function(p) pieces[#pieces + 1] = p end)
return {r.text, r.agents, table.concat(pieces, "|"),
        {r.tool_calls[1].name, r.tool_calls[2].name}}
