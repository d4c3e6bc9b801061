await Tool.define({name: "mirror", description: "Describe and return the arguments.", run: (a) => {
  return {
    got: a, n_kind: Number.isInteger(a.n) ? "integer" : "float", f_kind: Number.isInteger(a.f) ? "integer" : "float", list_len: a.l.length,
    hole_is_null: a.l[1] === null, empty: JSON.stringify(a.e) + JSON.stringify(a.o),
  };
}});
const out = await Tool.call("mirror", {e: [], f: 0.5, l: ["😀", null, 3], n: 9007199254740992, o: {}});
await Tool.call("record", {value: out});
export default out;
