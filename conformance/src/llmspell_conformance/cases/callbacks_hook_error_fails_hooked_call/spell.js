await Hook.on("before_tool_call", async (ctx) => {
  if (ctx.name === "record") await Tool.call("fail", {code: "not_found", message: "hook refused"});
});
let code;
try { await Tool.call("record", {value: "should not be recorded"}); } catch (e) { code = e.code; }
export default code;
