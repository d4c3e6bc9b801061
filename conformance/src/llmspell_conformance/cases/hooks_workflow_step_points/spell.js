await Hook.on("beforeWorkflowStep", async (ctx) => {
  await Tool.call("record", {value: `${ctx.name} ${ctx.input}`});
  if (ctx.name === "flow/step2") return {action: "modify", input: ctx.input + "!"};
});
const flow = await Workflow.sequential({name: "flow", steps: [
  (s) => `A(${s})`,
  (s) => `B(${s})`,
]});
export default (await flow.run("x")).data;
