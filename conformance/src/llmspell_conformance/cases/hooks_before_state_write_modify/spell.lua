local seen = nil
Hook.on("before_state_write", function(ctx)
  seen = ctx.name
  return {action = "modify", input = ctx.input * 2}
end)
State.set("color", 10, "spell")
return {seen, State.get("color", "spell")}
