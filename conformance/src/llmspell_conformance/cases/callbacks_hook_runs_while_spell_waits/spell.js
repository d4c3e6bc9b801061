await Hook.on("before_tool_call", async (ctx) => {
  if (ctx.name === "wait") await Tool.call("record", {value: "before " + ctx.name});
});
export default await Tool.call("wait", {seconds: 0.05, label: "w", value: "slept"});
