const agent = await Agent.create({
  name: "geo", model: "scripted/x",
  outputSchema: {
    type: "object",
    properties: {city: {type: "string"}, population: {type: "integer"}},
    required: ["city"],
  },
});
const result = await agent.run("largest city of Norway");
let code;
try { await agent.run("again"); } catch (e) { code = e.code; }
export default [result.data, code];
