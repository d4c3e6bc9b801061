const a = 1;
const b = 2;
await Tool.call("fail", {code: "quota_exceeded", message: "no more quota"});
export default a + b;
