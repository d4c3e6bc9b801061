let caught;
try {
  await Task.race([
    async () => {
      await Task.sleep(0.05);
      return await Tool.call("wait", {seconds: 5, label: "slow", value: "slow"});
    },
    async () => {
      await Task.sleep(0.1);
      await Tool.call("wait", {seconds: 0.1, label: "quick"});
      await Tool.call("fail", {code: "not_found", message: "nothing here"});
    },
  ]);
} catch (err) {
  caught = err;
}
await Tool.call("record", {value: "caught " + caught.code});
export default [caught.code, caught.message.includes("nothing here")];
