local value = {list = JSON.array{}, object = {}, nested = {JSON.array{}, {}}}
local back = Tool.call("record", {value = value})
State.set("v", back, "spell")
local again = State.get("v", "spell")
local emptied = Tool.call("record", {value = {1, 2}})
emptied[2] = nil
emptied[1] = nil
local parsed = JSON.parse('{"a": [], "b": {}}')
Tool.call("record", {value = {again, emptied, parsed}})
return {again = again, emptied = emptied, parsed = parsed, text = JSON.stringify(again)}
