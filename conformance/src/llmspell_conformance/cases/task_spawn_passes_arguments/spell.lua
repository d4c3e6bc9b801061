local h = Task.spawn(function(a, b, c, d, ...)
  local n = select("#", ...)
  local got = Tool.call("record", {value = a})
  return {count = 4 + n, sum = got + #b, text = b, list = c, obj = d}
end, 40, "two", {3, 4}, {k = "v"})
return h:wait()
