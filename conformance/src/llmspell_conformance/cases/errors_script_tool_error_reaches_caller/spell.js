await Tool.define({name: "picky", description: "Refuses odd numbers.", run: (a) => {
  if (a.n % 2 === 1) throw new Error("odd number " + a.n);
  if (a.deep) return a.missing.field;
  return a.n;
}});
let ok = true, err, err2;
try { await Tool.call("picky", {n: 3}); } catch (e) { ok = false; err = e; }
try { await Tool.call("picky", {n: 2, deep: true}); } catch (e) { err2 = e; }
export default [ok, err.code, err.message.includes("odd number 3"), err.details.line, await Tool.call("picky", {n: 4}), err2.code, err2.details.line];
