let lastAttempt = null;
await Hook.on("after_tool_call", (ctx) => {
  lastAttempt = ctx.attempt;
  if (ctx.attempt === 0) return {action: "retry", reason: "again"};
});
const out = await Tool.call("record", {value: "once more"});
export default [out, lastAttempt];
