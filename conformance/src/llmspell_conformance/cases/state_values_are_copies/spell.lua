local original = {list = {1, 2}, inner = {n = 1}}
State.set("v", original, "spell")
original.list[3] = 3
original.inner.n = 99
local got = State.get("v", "spell")
got.list[1] = "changed"
got.inner.extra = true
local again = State.get("v", "spell")
return again
