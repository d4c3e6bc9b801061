const list = [1, null, 3, null];
const back = await Tool.call("record", {value: list});
await State.set("list", back, "spell");
const again = await State.get("list", "spell");
const parsed = JSON.parse("[null, null]");
export default {length: again.length, second_is_null: again[1] === null, parsed_length: parsed.length, list: again, parsed};
