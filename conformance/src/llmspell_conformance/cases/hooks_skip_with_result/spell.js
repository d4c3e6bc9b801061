let skipped = null;
await Hook.on("before_tool_call", (ctx) => ({action: "skip", result: "cached"}));
await Hook.on("after_tool_call", (ctx) => { skipped = ctx.skipped; });
const out = await Tool.call("record", {value: "fresh"});
export default [out, skipped];
