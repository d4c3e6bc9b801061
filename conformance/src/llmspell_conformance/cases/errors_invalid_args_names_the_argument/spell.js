const errs = [];
for (const a of [{label: "x"}, {seconds: -1}, {seconds: "soon"}]) {
  try { await Tool.call("wait", a); } catch (e) { errs.push(e); }
}
export default [errs[0].code, errs[0].message, errs[1].code, errs[1].message.includes("seconds"), errs[2].code, errs[2].message.includes("seconds")];
