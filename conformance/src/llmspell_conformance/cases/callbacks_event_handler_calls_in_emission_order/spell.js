const order = [];
await Event.on("tick", async (ev) => { await Task.sleep(0.01 * (4 - ev.data.n)); order.push(ev.data.n); });
for (const n of [1, 2, 3]) await Event.emit("tick", {n});
await Tool.call("wait", {seconds: 0.2});
export default order;
