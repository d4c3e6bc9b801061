const codes = [];
for (const big of [2 ** 53 + 2, -(2 ** 53 + 2), Number.MAX_SAFE_INTEGER * 4]) {  // 2^53+1 is not a JS number
  try { await Tool.call("record", {value: {n: big}}); codes.push("accepted"); } catch (err) { codes.push(err.code); }
}
try { await State.set("big", 2 ** 53 + 2, "spell"); codes.push("accepted"); } catch (err) { codes.push(err.code); }
codes.push((await State.get("big", "spell")) === null ? "not stored" : "stored");
export default codes;
