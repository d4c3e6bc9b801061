await Hook.on("before_tool_call", async (ctx) => {
  if (ctx.name !== "record") {
    await Tool.call("record", {value: `${ctx.point} ${ctx.kind} ${ctx.name} ${ctx.input.text}`});
    await Tool.call("record", {value: ctx.attempt});
  }
});
export default await Tool.call("echo", {text: "hi"});
