local results = {}
for _, name in ipairs({"os", "io", "./secret.lua"}) do
  results[#results + 1] = (pcall(function() return require(name) end))
end
results[#results + 1] = Tool.call("echo", {text = "still here"})
return results
