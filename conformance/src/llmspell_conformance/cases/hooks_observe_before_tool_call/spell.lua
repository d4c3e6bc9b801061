Hook.on("before_tool_call", function(ctx)
  if ctx.name ~= "record" then
    Tool.call("record", {value = ctx.point .. " " .. ctx.kind .. " " .. ctx.name .. " " .. ctx.input.text})
    Tool.call("record", {value = ctx.attempt})
  end
end)
return Tool.call("echo", {text = "hi"})
