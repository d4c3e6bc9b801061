local scopes = {"global", "spell", "session:x", "session:y", "agent:y", "workflow:w"}
for i, scope in ipairs(scopes) do State.set("k", scope .. " value", scope) end
local seen = {}
for i, scope in ipairs(scopes) do seen[i] = State.get("k", scope) end
State.delete("k", "session:x")
seen[#seen + 1] = State.get("k", "session:x") == nil
seen[#seen + 1] = State.get("k", "session:y")
return seen
