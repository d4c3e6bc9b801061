let seenCode = null, afterOutput = null;
await Hook.on("onError", (ctx) => {
  seenCode = ctx.error.code;
  return {action: "skip", result: "fallback"};
});
await Hook.on("afterToolCall", (ctx) => { afterOutput = ctx.output; });
const out = await Tool.call("fail", {code: "tool_error"});
export default [out, seenCode, afterOutput];
