const h = Task.spawn(async () => {
  await Tool.call("wait", {seconds: 0.05, label: "t"});
  await Tool.call("fail", {code: "permission_denied", message: "denied on purpose"});
});
let caught;
try {
  await h;
} catch (err) {
  caught = err;
}
await Tool.call("record", {value: "handled " + caught.code});
export default [caught.code, caught.details.tool];
