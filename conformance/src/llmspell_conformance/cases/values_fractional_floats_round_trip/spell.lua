local floats = {1.5, -0.25, 0.1, 3.141592653589793, 1e-7, 123456.789}
local back = Tool.call("record", {value = floats})
State.set("f", back, "spell")
local again = State.get("f", "spell")
local sum = Tool.call("calculator", {expression = "0.1 + 0.2"})
local same = true
for i = 1, #floats do same = same and again[i] == floats[i] end
return {again = again, same = same, sum = sum, sum_exact = sum == 0.1 + 0.2}
