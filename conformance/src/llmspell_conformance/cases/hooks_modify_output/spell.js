await Hook.on("after_tool_call", (ctx) => ({action: "modify", output: ctx.output.toUpperCase() + "!"}));
export default await Tool.call("record", {value: "raw"});
