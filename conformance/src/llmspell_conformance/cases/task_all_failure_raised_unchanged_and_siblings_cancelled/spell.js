let caught;
try {
  await Task.all([
    async () => {
      try { await Tool.call("wait", {seconds: 5, label: "s1"}); } catch (e) { /* must not run */ }
      await Tool.call("record", {value: "s1 went on"});
    },
    async () => {
      await Tool.call("wait", {seconds: 0.05, label: "quick"});
      await Tool.call("fail", {code: "permission_denied", message: "denied on purpose"});
    },
    async () => {
      await Tool.call("wait", {seconds: 5, label: "s2"});
      await Tool.call("record", {value: "s2 went on"});
    },
  ]);
} catch (err) {
  caught = err;
}
await Tool.call("record", {value: "caught " + caught.code});
export default [caught.code, caught.details.tool, caught.message.includes("denied on purpose")];
