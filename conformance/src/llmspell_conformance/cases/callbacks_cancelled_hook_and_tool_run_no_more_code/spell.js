await Hook.on("before_tool_call", async (ctx) => {
  if (ctx.name === "echo") {
    try { await Tool.call("wait", {seconds: 5, label: "hook"}); } catch (e) {}
    await Tool.call("record", {value: "hook went on"});
  }
});
await Tool.define({name: "slowtool", description: "s", run: async (args) => {
  try { await Tool.call("wait", {seconds: 5, label: "tool"}); } catch (e) {}
  await Tool.call("record", {value: "tool went on"});
}});
const codes = [];
try { await Task.timeout(0.05, () => Tool.call("echo", {text: "x"})); } catch (e) { codes.push(e.code); }
try { await Task.timeout(0.05, () => Tool.call("slowtool", {})); } catch (e) { codes.push(e.code); }
await Tool.call("record", {value: "main"});
export default codes;
