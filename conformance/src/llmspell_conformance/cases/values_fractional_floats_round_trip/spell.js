const floats = [1.5, -0.25, 0.1, 3.141592653589793, 1e-7, 123456.789];
const back = await Tool.call("record", {value: floats});
await State.set("f", back, "spell");
const again = await State.get("f", "spell");
const sum = await Tool.call("calculator", {expression: "0.1 + 0.2"});
const same = floats.every((f, i) => again[i] === f);
export default {again, same, sum, sum_exact: sum === 0.1 + 0.2};
