const scopes = ["global", "spell", "session:x", "session:y", "agent:y", "workflow:w"];
for (const scope of scopes) await State.set("k", scope + " value", scope);
const seen = [];
for (const scope of scopes) seen.push(await State.get("k", scope));
await State.delete("k", "session:x");
seen.push((await State.get("k", "session:x")) === null);
seen.push(await State.get("k", "session:y"));
export default seen;
