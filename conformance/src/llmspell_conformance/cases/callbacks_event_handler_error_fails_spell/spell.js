await Event.on("boom", async (ev) => { await Tool.call("fail", {code: "permission_denied"}); });
await Event.emit("boom", {});
await Tool.call("wait", {seconds: 5, label: "w"});
await Tool.call("record", {value: "after"});
export default "done";
