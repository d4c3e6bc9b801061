State.set("a", {1, 2}, "spell")
local first = State.delete("a", "spell")
local second = State.delete("a", "spell")
local never = State.delete("never_set", "spell")
State.set("n", JSON.null, "spell")
return {first, second, never, State.get("a", "spell") == nil, State.keys("spell")}
