let lastSeq = 0;
Event.on("tick", async (event) => {
  const increasing = event.seq > lastSeq;
  lastSeq = event.seq;
  await Tool.call("record", {value: [event.topic, event.data.n, increasing]});
});
const seqs = [];
for (let n = 1; n <= 5; n++) seqs.push(await Event.emit("tick", {n}));
let ordered = true;
for (let n = 1; n < 5; n++) ordered = ordered && seqs[n] > seqs[n - 1];
export default ordered;
