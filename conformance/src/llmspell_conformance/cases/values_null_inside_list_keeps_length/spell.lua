local list = {1, JSON.null, 3, JSON.null}
local back = Tool.call("record", {value = list})
State.set("list", back, "spell")
local again = State.get("list", "spell")
local parsed = JSON.parse("[null, null]")
return {length = #again, second_is_null = JSON.is_null(again[2]), parsed_length = #parsed, list = again, parsed = parsed}
