Tool.define{name = "mirror", description = "Describe and return the arguments.", run = function(a)
  return {
    got = a, n_kind = math.type(a.n), f_kind = math.type(a.f), list_len = #a.l,
    hole_is_null = JSON.is_null(a.l[2]), empty = JSON.stringify(a.e) .. JSON.stringify(a.o),
  }
end}
local out = Tool.call("mirror", {n = 9007199254740992, f = 0.5, l = {"😀", JSON.null, 3}, e = JSON.array{}, o = {}})
Tool.call("record", {value = out})
return out
