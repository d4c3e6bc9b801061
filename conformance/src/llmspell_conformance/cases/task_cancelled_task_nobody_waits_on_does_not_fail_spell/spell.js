const a = Task.spawn(() => Tool.call("wait", {seconds: 5, label: "a"}));
const b = Task.spawn(() => Task.sleep(5));
await Task.sleep(0.05);
a.cancel();
b.cancel();
await Task.sleep(0.05);
export default await Tool.call("record", {value: "done"});
