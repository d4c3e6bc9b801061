// tasks.js: run tools concurrently, keep a counter in state; needs no model.
//   llmspell run examples/tasks.js -- --n 4
const n = Number(args.n ?? 3);

// Task.all runs the functions concurrently: n tool sleeps of 0.1 s take about 0.1 s in all
const jobs = Array.from({length: n}, (_, i) => async () => {
  await Tool.call("sleep", {seconds: 0.1});
  return Tool.call("calculator", {expression: `${i + 1} ** 2`});
});
const squares = await Task.all(jobs);

// Task.timeout cancels work that takes too long (the tool's sleep is cancelled too)
let slow = "finished";
try {
  await Task.timeout(0.05, () => Tool.call("sleep", {seconds: 10}));
} catch (err) {
  slow = `stopped (${err.code})`;
}

// state outlives the run (SQLite in the project's .llmspell/ folder)
const runs = ((await State.get("examples.tasks.runs")) ?? 0) + 1;
await State.set("examples.tasks.runs", runs);

print(`squares of 1..${n}: ${squares.join(", ")}`);
print(`slow call: ${slow}`);
Log.info("tasks example finished", {runs});
export default {squares, runs};
