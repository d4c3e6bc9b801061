Tool.define{name = "picky", description = "Refuses odd numbers.", run = function(a)
  if a.n % 2 == 1 then error("odd number " .. a.n) end
  if a.deep then return a.missing.field end
  return a.n
end}
local ok, err = pcall(Tool.call, "picky", {n = 3})
local ok2, err2 = pcall(Tool.call, "picky", {n = 2, deep = true})
return {ok, err.code, err.message:find("odd number 3", 1, true) ~= nil, err.details.line, Tool.call("picky", {n = 4}), err2.code, err2.details.line}
