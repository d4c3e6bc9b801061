const router = await Workflow.conditional({name: "router", branches: [
  {when: {input: true, gte: 10}, step: (x) => `big:${x}`},
  {when: {all: [{state: "mode", equals: "fast"}, {state: "missing", exists: false}]},
   step: (x) => `fast:${x}`},
], default: (x) => `slow:${x}`});
await State.set("mode", "fast");
const routes = [(await router.run("x")).data];
await State.set("mode", "careful");
routes.push((await router.run("x")).data);
routes.push((await router.run(12)).data);

const body = async (n) => {
  if (typeof n === "object") return "error seen";
  if (n >= 4) await Tool.call("fail", {code: "tool_error"});
  return Tool.call("record", {value: n * 2});
};
const loop = (onError) => Workflow.loop({name: `l_${onError}`, body, onError, maxIterations: 5,
                                         until: {input: true, equals: "error seen"}});
const broken = (await (await loop("break")).run(1)).data;
const continued = (await (await loop("continue")).run(1)).data;
let failed;
try { await (await loop("fail")).run(1); } catch (e) { failed = e.code; }
export default {routes, broken, continued, failed};
