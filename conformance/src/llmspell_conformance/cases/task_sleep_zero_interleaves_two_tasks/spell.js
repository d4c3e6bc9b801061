const log = [];
async function worker(name) {
  for (let i = 1; i <= 4; i++) {
    log.push(name + i);
    await Task.sleep(0);
  }
}
await Task.all([() => worker("a"), () => worker("b")]);
// within a round the two steps may come in either order: sort each pair
const rounds = [];
for (let i = 0; i < log.length; i += 2) rounds.push([log[i], log[i + 1]].sort().join(" "));
export default rounds.join("|");
