local last_seq = 0
Event.on("tick", function(event)
  local increasing = event.seq > last_seq
  last_seq = event.seq
  Tool.call("record", {value = {event.topic, event.data.n, increasing}})
end)
local seqs = {}
for n = 1, 5 do seqs[n] = Event.emit("tick", {n = n}) end
local ordered = true
for n = 2, 5 do ordered = ordered and seqs[n] > seqs[n - 1] end
return ordered
