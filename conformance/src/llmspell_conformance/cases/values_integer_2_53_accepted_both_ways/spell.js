const top = 2 ** 53;
const back = await Tool.call("record", {value: [top, -top, top - 1]});
await State.set("top", top, "spell");
const stored = await State.get("top", "spell");
const computed = await Tool.call("calculator", {expression: "2**53"});
export default {back, stored, computed, exact: stored === top && computed === top, kind: Number.isInteger(computed) ? "integer" : "float"};
