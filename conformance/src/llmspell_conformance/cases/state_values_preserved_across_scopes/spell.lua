local value = {
  big = 9007199254740992, float = 0.5, text = "naïve 🚀", flags = {true, false, JSON.null},
  empty_list = JSON.array{}, empty_object = {}, nested = {{id = 1, tags = JSON.array{}}},
}
local out = {}
for i, scope in ipairs({"global", "session:chat-1", "agent:writer", "workflow:etl.v2", "spell"}) do
  State.set("ключ 🔑", value, scope)
  out[i] = JSON.stringify(State.get("ключ 🔑", scope)) == JSON.stringify(value)
end
State.set("ключ 🔑", "replaced", "spell")
out[#out + 1] = State.get("ключ 🔑", "spell")
out[#out + 1] = State.get("ключ 🔑", "agent:writer")
return out
