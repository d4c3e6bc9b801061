await Hook.on("before_tool_call", (ctx) =>
  ({action: "modify", input: {value: ctx.input.value + "+low"}}), {priority: 1});
await Hook.on("before_tool_call", (ctx) =>
  ({action: "modify", input: {value: ctx.input.value + "+high"}}), {priority: 10});
export default await Tool.call("record", {value: "x"});
