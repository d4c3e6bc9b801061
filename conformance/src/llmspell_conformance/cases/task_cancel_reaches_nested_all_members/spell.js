const h = Task.spawn(async () => {
  await Task.all([
    async () => { await Tool.call("wait", {seconds: 5, label: "m1"}); await Tool.call("record", {value: "m1 went on"}); },
    async () => { await Tool.call("wait", {seconds: 5, label: "m2"}); await Tool.call("record", {value: "m2 went on"}); },
  ]);
  await Tool.call("record", {value: "task went on"});
});
await Task.sleep(0.05);
h.cancel();
let code;
try {
  await h;
} catch (err) {
  code = err.code;
}
await Tool.call("record", {value: "caught " + code});
export default code;
