// state.js: state that outlives the run, and state that does not; needs no model.
//   llmspell run examples/state.js -- --note "buy milk"     (run it again: the notes add up)
//   llmspell run examples/state.js -- --forget              (start the notes over)
// The default scope, `global`, is kept in the project's .llmspell/state.db; the `spell` scope
// lives as long as one run.

// every run starts with an empty spell scope
if ((await State.get("draft", "spell")) !== null) {
  throw new Error("the spell scope should start empty");
}
await State.set("draft", args.note ?? "(no note)", "spell");

if (args.forget) {
  await State.delete("examples.state.notes");
}
const notes = (await State.get("examples.state.notes")) ?? [];
if (typeof args.note === "string") {
  notes.push(args.note);
  await State.set("examples.state.notes", notes);
}

const runs = ((await State.get("examples.state.runs")) ?? 0) + 1;
await State.set("examples.state.runs", runs);

print(`run ${runs}, notes: ${notes.length > 0 ? notes.join("; ") : "none"}`);
export default {runs, notes: notes.length, draft: await State.get("draft", "spell")};
