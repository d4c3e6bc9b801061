State.set("color", "blue")
State.set("size", 3, "global")
State.set("color", "red", "spell")
return {
  get_default = State.get("size"), get_global = State.get("color", "global"),
  keys_default = State.keys(), keys_global = State.keys("global"), keys_spell = State.keys("spell"),
  deleted = State.delete("color"), spell_kept = State.get("color", "spell"),
}
