let caught;
try {
  await Task.timeout(5, async () => {
    await Tool.call("wait", {seconds: 0.02, label: "first"});
    await Tool.call("fail", {code: "invalid_args", message: "bad input on purpose"});
  });
} catch (err) {
  caught = err;
}
export default [caught.code, caught.details.tool, caught.message.includes("bad input on purpose")];
