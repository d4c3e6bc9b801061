await State.set("a", [1, 2], "spell");
const first = await State.delete("a", "spell");
const second = await State.delete("a", "spell");
const never = await State.delete("never_set", "spell");
await State.set("n", null, "spell");
export default [first, second, never, (await State.get("a", "spell")) === null, await State.keys("spell")];
