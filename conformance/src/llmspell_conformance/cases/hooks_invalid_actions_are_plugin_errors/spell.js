const codes = [];
const codeOf = async (promise) => {
  try { await promise; codes.push("ok"); } catch (err) { codes.push(err.code); }
};
await codeOf(Hook.on("before_tool_kall", (ctx) => {}));
let h = await Hook.on("before_tool_call", (ctx) => ({action: "explode"}));
await codeOf(Tool.call("echo", {text: "x"}));
await Hook.off(h);
h = await Hook.on("after_tool_call", (ctx) => ({action: "skip", result: 1}));
await codeOf(Tool.call("echo", {text: "x"}));
await Hook.off(h);
h = await Hook.on("before_tool_call", (ctx) => "skip");
await codeOf(Tool.call("echo", {text: "x"}));
await Hook.off(h);
export default codes;
