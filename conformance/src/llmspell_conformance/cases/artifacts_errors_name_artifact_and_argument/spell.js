const tryIt = async (f) => {
  try { await f(); return "accepted"; } catch (err) {
    return {code: err.code, message: err.message, details: err.details};
  }
};
await Artifact.save("doc.txt", "v1");
export default {
  missing: await tryIt(() => Artifact.load("doc.text")),
  version: await tryIt(() => Artifact.load("doc.txt", 7)),
  absolute: await tryIt(() => Artifact.save("/etc/passwd", "x")),
  dotdot: await tryIt(() => Artifact.save("a/../b", "x")),
  media: await tryIt(() => Artifact.save("x", "y", {mediaType: "text"})),
  base64: await tryIt(() => Artifact.save("x", "not base64!", {encoding: "base64"})),
  option: await tryIt(() => Artifact.save("x", "y", {media: "text/plain"})),
  content: await tryIt(() => Artifact.save("x", 42)),
  after: (await Artifact.load("doc.txt")).content,
};
