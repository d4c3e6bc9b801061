await Tool.call("record", {value: "before"});
const down = (n) => 1 + down(n + 1);
export default down(1);
