local values = {
  null = JSON.null, yes = true, no = false, int = 42, neg = -7, zero = 0, float = 1.5,
  text = "plain", list = {1, "two", false}, empty_list = JSON.array{}, empty_object = {},
  object = {a = 1, b = {c = "d"}},
}
local names = {"null", "yes", "no", "int", "neg", "zero", "float", "text", "list",
               "empty_list", "empty_object", "object"}
local back = {}
for _, name in ipairs(names) do
  State.set(name, values[name], "spell")
  back[name] = State.get(name, "spell")
end
back.int_kind = math.type(back.int)
back.float_kind = math.type(back.float)
back.null_is_nil = back.null == nil
back.null = nil
Tool.call("record", {value = {back.int, back.neg, back.zero, back.float}})
return back
