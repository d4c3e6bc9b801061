const agent = await Agent.create({name: "talker", model: "scripted/x"});
const pieces = [];
const result = await agent.stream("talk", async (piece) => {
  pieces.push(await Tool.call("record", {value: piece}));
});
export default [result.text, pieces.join("|"), pieces.length];
