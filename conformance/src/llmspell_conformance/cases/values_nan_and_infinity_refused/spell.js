const codes = [];
for (const v of [NaN, Infinity, -Infinity]) {
  try { await Tool.call("record", {value: v}); codes.push("accepted"); } catch (err) { codes.push(err.code); }
}
export default codes;
