await Tool.define({name: "spin", description: "s", run: (args) => {
  let n = 0;
  while (true) n += 1;
}});
const agent = await Agent.create({name: "a", model: "scripted/x", tools: ["spin"]});
try { await agent.run("go"); } catch (e) {}
await Tool.call("record", {value: "after"});
