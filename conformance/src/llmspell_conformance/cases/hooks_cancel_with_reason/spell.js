await Hook.on("before_tool_call", (ctx) => ({action: "cancel", reason: "not today"}));
await Tool.call("record", {value: "never"});
export default "unreachable";
