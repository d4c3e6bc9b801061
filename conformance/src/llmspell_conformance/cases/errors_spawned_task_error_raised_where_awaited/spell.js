const task = Task.spawn(async (label) => {
  await Tool.call("fail", {code: "invalid_value", message: "bad " + label});
}, "input");
let err; try { await task; } catch (e) { err = e; }
await Tool.call("record", {value: [err.code, err.message.includes("bad input"), err.details.tool]});
export default "survived";
