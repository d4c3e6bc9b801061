Tool.define{name = "inner", description = "Wrap in inner().", run = function(args)
  Tool.call("record", {value = args.text})
  return "inner(" .. args.text .. ")"
end}
Tool.define{name = "outer", description = "Call inner, wrap in outer().", run = function(args)
  Tool.call("record", {value = "outer start"})
  local got = Tool.call("inner", {text = args.text})
  Tool.call("record", {value = "outer end"})
  return "outer(" .. got .. ")"
end}
return Tool.call("outer", {text = "hi"})
