const value = {
  big: 9007199254740992, empty_list: [], empty_object: {}, flags: [true, false, null], float: 0.5,
  nested: [{id: 1, tags: []}], text: "naïve 🚀",
};
const out = [];
for (const scope of ["global", "session:chat-1", "agent:writer", "workflow:etl.v2", "spell"]) {
  await State.set("ключ 🔑", value, scope);
  out.push(JSON.stringify(await State.get("ключ 🔑", scope)) === JSON.stringify(value));
}
await State.set("ключ 🔑", "replaced", "spell");
out.push(await State.get("ключ 🔑", "spell"));
out.push(await State.get("ключ 🔑", "agent:writer"));
export default out;
