local value = {
  users = {{name = "ada", tags = {"x", "y"}, meta = {}}, {name = "bob", tags = JSON.array{}, meta = {age = 36}}},
  matrix = {{1, 2}, {3, 4}, JSON.array{}},
  deep = {a = {b = {c = {d = {e = true}}}}},
}
local back = Tool.call("record", {value = value})
return {back = back, same = JSON.stringify(back) == JSON.stringify(value)}
