Task.spawn(async () => {
  await Tool.call("wait", {seconds: 0.05, label: "t"});
  await Tool.call("fail", {code: "permission_denied", message: "denied on purpose"});
});
export default "main done";
