-- tasks.lua: run tools concurrently, keep a counter in state; needs no model.
--   llmspell run examples/tasks.lua -- --n 4
local n = tonumber(args.n) or 3

-- Task.all runs the functions concurrently: n tool sleeps of 0.1 s take about 0.1 s in all
local jobs = {}
for i = 1, n do
  jobs[i] = function()
    Tool.call("sleep", {seconds = 0.1})
    return Tool.call("calculator", {expression = i .. " ** 2"})
  end
end
local squares = Task.all(jobs)

-- Task.timeout cancels work that takes too long (the tool's sleep is cancelled too)
local ok, err = pcall(Task.timeout, 0.05, function()
  Tool.call("sleep", {seconds = 10})
end)

-- state outlives the run (SQLite in the project's .llmspell/ folder)
local runs = (State.get("examples.tasks.runs") or 0) + 1
State.set("examples.tasks.runs", runs)

print(("squares of 1..%d: %s"):format(n, table.concat(squares, ", ")))
print(("slow call: %s (%s)"):format(ok and "finished" or "stopped", ok and "" or err.code))
Log.info("tasks example finished", {runs = runs})
return {squares = squares, runs = runs}
