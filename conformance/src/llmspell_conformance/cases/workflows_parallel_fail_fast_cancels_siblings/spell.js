const flow = await Workflow.parallel({name: "fan", branches: {
  bad: async (x) => {
    await Task.sleep(0.05);
    return Tool.call("fail", {code: "permission_denied"});
  },
  slow: async (x) => {
    await Tool.call("wait", {seconds: 5, label: "slow"});
    await Tool.call("record", {value: "slow finished"});
  },
}});
let code;
try { await flow.run("x"); } catch (e) { code = e.code; }
export default code;
