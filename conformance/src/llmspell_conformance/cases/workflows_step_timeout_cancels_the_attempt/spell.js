const slow = (label) => async (x) => {
  try { await Tool.call("wait", {seconds: 5, label}); } catch (e) { /* never reached */ }
  await Tool.call("record", {value: `${label} went on`});
  return "never";
};
const lenient = await Workflow.sequential({name: "lenient", steps: [
  {fn: slow("slow"), name: "slow", timeout: 0.1, onError: "continue"},
  (prev) => `${prev.error.code}:${prev.error.details.step}:${prev.error.details.seconds}`,
]});
const strict = await Workflow.sequential({name: "strict", steps: [{fn: slow("strict"), timeout: 0.1}]});
let code;
try { await strict.run("x"); } catch (e) { code = e.code; }
export default [(await lenient.run("x")).data, code];
