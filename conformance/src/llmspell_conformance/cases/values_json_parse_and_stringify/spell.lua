local text = '{"a":[1,2.5,null,true,"x"],"b":{},"c":[],"d":{"e":"é😀"},"n":-0.5}'
local v = JSON.parse(text)
local out = JSON.stringify(v)
local pretty = JSON.stringify({k = {1}}, 2)
local ok, err = pcall(JSON.parse, "{not json")
return {same = out == text, out = out, pretty = pretty, a_len = #v.a, parse_failed = not ok, scalar = JSON.parse("7"), str = JSON.stringify("q\"")}
