-- state.lua: state that outlives the run, and state that does not; needs no model.
--   llmspell run examples/state.lua -- --note "buy milk"     (run it again: the notes add up)
--   llmspell run examples/state.lua -- --forget              (start the notes over)
-- The default scope, `global`, is kept in the project's .llmspell/state.db; the `spell` scope
-- lives as long as one run.

-- every run starts with an empty spell scope
assert(State.get("draft", "spell") == nil)
State.set("draft", args.note or "(no note)", "spell")

if args.forget then
  State.delete("examples.state.notes")
end
local notes = State.get("examples.state.notes") or {}
if type(args.note) == "string" then
  notes[#notes + 1] = args.note
  State.set("examples.state.notes", notes)
end

local runs = (State.get("examples.state.runs") or 0) + 1
State.set("examples.state.runs", runs)

print(("run %d, notes: %s"):format(runs, #notes > 0 and table.concat(notes, "; ") or "none"))
return {runs = runs, notes = #notes, draft = State.get("draft", "spell")}
