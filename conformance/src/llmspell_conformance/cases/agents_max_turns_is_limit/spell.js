await Tool.define({name: "again", description: "Once more.", run: (args) =>
  Tool.call("record", {value: "turn"})});
const agent = await Agent.create({name: "looper", model: "scripted/x", tools: ["again"], maxTurns: 2});
let code;
try { await agent.run("go"); } catch (e) { code = e.code; }
export default code;
