Event.on("artifact.saved", async (event) => {
  await Tool.call("record", {value: event.data});
});
await Artifact.save("a.txt", "one");
await Artifact.save("a.txt", "two!");
await Artifact.save("b.bin", "AAEC", {encoding: "base64", mediaType: "application/x-thing"});
await Artifact.load("a.txt");
await Artifact.list();
export default "done";
