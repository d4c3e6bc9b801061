const flow = await Workflow.parallel({name: "fan", branches: {
  bad: {fn: async (x) => {
    await Task.sleep(0.05);
    await Tool.call("fail", {code: "permission_denied"});
  }},
  slow: async (x) => {
    try {
      await Tool.call("wait", {seconds: 5, label: "slow"});
    } catch (e) {
      await Tool.call("record", {value: "slow caught"});
    } finally {
      await Tool.call("record", {value: "slow finally"});
    }
    return "slow done";
  },
}});
let code;
try { await flow.run("x"); } catch (e) { code = e.code; }
await Task.sleep(0.1);
export default code;
