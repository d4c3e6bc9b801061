const test = (label, pass) => async (n) => {
  await Tool.call("record", {value: `test ${label} ${n}`});
  return pass(n);
};
const router = await Workflow.conditional({name: "router", branches: [
  {when: test("big", (n) => n >= 10), step: (n) => `big:${n}`},
  {when: test("small", (n) => n >= 0), step: (n) => `small:${n}`},
], default: (n) => `default:${n}`});
export default [(await router.run(50)).data, (await router.run(5)).data, (await router.run(-1)).data];
