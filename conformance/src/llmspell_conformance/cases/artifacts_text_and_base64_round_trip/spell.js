const saved = await Artifact.save("notes/hello.md", "# Grüße\n", {mediaType: "text/markdown", metadata: {lang: "de"}});
const bin = await Artifact.save("bin/blob", "AP8Q", {encoding: "base64"});
const svg = await Artifact.save("img/dot.svg", "PHN2Zy8+", {encoding: "base64", media_type: "image/svg+xml"});
const view = (a) => ({name: a.name, version: a.version, media_type: a.media_type, size: a.size,
                      sha256: a.sha256, encoding: a.encoding, content: a.content, metadata: a.metadata});
export default {
  saved: [saved.version, saved.size, saved.media_type, saved.content === undefined],
  bin: [bin.version, bin.size, bin.media_type],
  svg: svg.media_type,
  text: view(await Artifact.load("notes/hello.md")),
  bytes: view(await Artifact.load("bin/blob")),
  svg_text: view(await Artifact.load("img/dot.svg")),
};
