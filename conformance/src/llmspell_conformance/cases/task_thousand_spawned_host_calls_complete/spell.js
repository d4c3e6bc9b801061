const tasks = [];
for (let i = 1; i <= 1000; i++) {
  tasks.push(Task.spawn(() => Tool.call("wait", {seconds: 0.05, value: i})));
}
const results = await Task.all(tasks);
export default {count: results.length, sum: results.reduce((a, b) => a + b, 0)};
