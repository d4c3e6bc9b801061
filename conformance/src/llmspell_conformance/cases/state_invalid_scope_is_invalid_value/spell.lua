local codes = {}
for _, scope in ipairs({"user:bob", "Session:x", "spell:x", "agent:", "session:a b"}) do
  local ok, err = pcall(State.set, "k", 1, scope)
  codes[#codes + 1] = ok and "accepted" or err.code
end
local ok, err = pcall(State.get, "k", "nowhere")
local ok2, err2 = pcall(State.keys, "user:bob")
return {codes = codes, get = err.code, keys = err2.code, message = err.message}
