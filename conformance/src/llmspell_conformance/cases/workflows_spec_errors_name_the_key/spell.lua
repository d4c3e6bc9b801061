local id = function(x) return x end
local specs = {
  {"sequential", {steps = {id, {fn = id, timout = 1}}}},
  {"loop", {body = {fn = id, retry = {attempts = 0}}}},
  {"conditional", {branches = {{when = {state = "mode"}, step = id}}}},
  {"parallel", {branches = {a = id}, on_error = "break"}},
  {"sequential", {steps = {{tool = "recrod"}}}},
}
local out = {}
for i, item in ipairs(specs) do
  local ok, err = pcall(Workflow[item[1]], item[2])
  out[i] = err.code .. "|" .. err.message
end
return out
