const text = '{"a":[1,2.5,null,true,"x"],"b":{},"c":[],"d":{"e":"é😀"},"n":-0.5}';
const v = JSON.parse(text);
const out = JSON.stringify(v);
const pretty = JSON.stringify({k: [1]}, null, 2);
let ok = true; try { JSON.parse("{not json"); } catch (err) { ok = false; }
export default {same: out === text, out, pretty, a_len: v.a.length, parse_failed: !ok, scalar: JSON.parse("7"), str: JSON.stringify("q\"")};
