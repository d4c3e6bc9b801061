local top = 9007199254740992  -- 2^53
local back = Tool.call("record", {value = {top, -top, top - 1}})
State.set("top", top, "spell")
local stored = State.get("top", "spell")
local computed = Tool.call("calculator", {expression = "2**53"})
return {back = back, stored = stored, computed = computed, exact = stored == top and computed == top, kind = math.type(computed)}
