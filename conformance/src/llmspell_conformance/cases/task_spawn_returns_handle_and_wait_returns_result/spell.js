const h = Task.spawn(async () => {
  await Task.sleep(0.05);
  return await Tool.call("wait", {seconds: 0.02, label: "job", value: {n: 1, list: [1, 2]}});
});
await Tool.call("record", {value: "spawned"});
const handle = typeof h.then === "function" && typeof h.cancel === "function";
export default {handle, value: await h};
