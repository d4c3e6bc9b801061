await State.set("color", "blue");
await State.set("size", 3, "global");
await State.set("color", "red", "spell");
export default {
  get_default: await State.get("size"), get_global: await State.get("color", "global"),
  keys_default: await State.keys(), keys_global: await State.keys("global"), keys_spell: await State.keys("spell"),
  deleted: await State.delete("color"), spell_kept: await State.get("color", "spell"),
};
