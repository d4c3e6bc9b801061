const id = (x) => x;
const specs = [
  ["sequential", {steps: [id, {fn: id, timout: 1}]}],
  ["loop", {body: {fn: id, retry: {attempts: 0}}}],
  ["conditional", {branches: [{when: {state: "mode"}, step: id}]}],
  ["parallel", {branches: {a: id}, onError: "break"}],
  ["sequential", {steps: [{tool: "recrod"}]}],
];
const out = [];
for (const [kind, spec] of specs) {
  try { await Workflow[kind](spec); out.push("no error"); } catch (e) { out.push(`${e.code}|${e.message}`); }
}
export default out;
