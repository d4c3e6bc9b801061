const codes = [];
for (const scope of ["user:bob", "Session:x", "spell:x", "agent:", "session:a b"]) {
  try { await State.set("k", 1, scope); codes.push("accepted"); } catch (err) { codes.push(err.code); }
}
let err, err2;
try { await State.get("k", "nowhere"); } catch (e) { err = e; }
try { await State.keys("user:bob"); } catch (e) { err2 = e; }
export default {codes, get: err.code, keys: err2.code, message: err.message};
