const hook = await Hook.on("before_tool_call", (ctx) =>
  ({action: "modify", input: {value: ctx.input.value + "!"}}));
const first = await Tool.call("record", {value: "a"});
await Hook.off(hook);
const second = await Tool.call("record", {value: "b"});
export default [first, second];
