const long = Task.spawn(async () => { await Task.sleep(0.2); await Tool.call("record", {value: "long"}); });
const short = Task.spawn(async () => { await Task.sleep(0.05); await Tool.call("record", {value: "short"}); });
await long;
await short;
await Task.sleep(0.1);
await Task.sleep(0.15);
await Tool.call("record", {value: "after 0.1 + 0.15"});
export default "ok";
