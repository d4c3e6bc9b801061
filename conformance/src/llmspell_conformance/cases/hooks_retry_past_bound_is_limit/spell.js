await Hook.on("after_tool_call", (ctx) => ({action: "retry", reason: "never happy"}));
let code;
try { await Tool.call("record", {value: 1}); } catch (e) { code = e.code; }
export default code;
