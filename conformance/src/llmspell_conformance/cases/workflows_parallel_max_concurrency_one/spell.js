let running = 0, overlap = false;
const branch = (name) => async (x) => {
  running += 1;
  if (running > 1) overlap = true;
  await Tool.call("wait", {seconds: 0.15});
  running -= 1;
  return name;
};
const flow = await Workflow.parallel({name: "one_at_a_time", maxConcurrency: 1,
                                      branches: {a: branch("a"), b: branch("b")}});
const data = (await flow.run("x")).data;
export default {a: data.a, b: data.b, overlap};
