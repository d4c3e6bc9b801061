const winner = await Task.race([
  async () => {
    await Task.sleep(0.05);
    try { await Tool.call("wait", {seconds: 5, label: "slow"}); } catch (e) { /* must not run */ }
    await Tool.call("record", {value: "slow went on"});
    return "slow";
  },
  () => Tool.call("wait", {seconds: 0.2, label: "fast", value: "fast"}),
  async () => {
    await Task.sleep(5);
    await Tool.call("record", {value: "sleeper went on"});
    return "sleeper";
  },
]);
await Task.sleep(0.1);
await Tool.call("record", {value: "winner " + winner});
export default winner;
