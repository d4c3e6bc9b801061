local codes = {}
for _, big in ipairs({9007199254740993, -9007199254740993, math.maxinteger}) do  -- 2^53+1 ...
  local ok, err = pcall(Tool.call, "record", {value = {n = big}})
  codes[#codes + 1] = ok and "accepted" or err.code
end
local ok, err = pcall(State.set, "big", 9007199254740993, "spell")
codes[#codes + 1] = ok and "accepted" or err.code
codes[#codes + 1] = State.get("big", "spell") == nil and "not stored" or "stored"
return codes
