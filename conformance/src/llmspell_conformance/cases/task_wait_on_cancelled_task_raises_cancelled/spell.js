const h = Task.spawn(async () => {
  await Task.sleep(5);
  await Tool.call("record", {value: "task went on"});
  return "finished";
});
await Task.sleep(0.05);
Task.cancel(h);
let code;
try {
  await h;
} catch (err) {
  code = err.code;
}
await Tool.call("record", {value: "caught " + code});
export default code;
