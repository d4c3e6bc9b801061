local agent = Agent.create{name = "talker", model = "scripted/x"}
local pieces = {}
local result = agent:stream("talk", function(piece)
  pieces[#pieces + 1] = Tool.call("record", {value = piece})
end)
return {result.text, table.concat(pieces, "|"), #pieces}
