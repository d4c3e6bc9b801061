local log = {}
local function worker(name)
  for i = 1, 4 do
    log[#log + 1] = name .. i
    Task.sleep(0)
  end
end
Task.all{function() worker("a") end, function() worker("b") end}
-- within a round the two steps may come in either order: sort each pair
local rounds = {}
for i = 1, #log, 2 do
  local pair = {log[i], log[i + 1]}
  table.sort(pair)
  rounds[#rounds + 1] = table.concat(pair, " ")
end
return table.concat(rounds, "|")
