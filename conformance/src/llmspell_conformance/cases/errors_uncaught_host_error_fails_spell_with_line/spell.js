await Tool.call("record", {value: "before"});
const answer = 42;
await Tool.call("fail", {message: "tool broke"});
await Tool.call("record", {value: "never"});
export default answer;
