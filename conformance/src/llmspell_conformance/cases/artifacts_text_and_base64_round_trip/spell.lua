local saved = Artifact.save("notes/hello.md", "# Grüße\n", {media_type = "text/markdown", metadata = {lang = "de"}})
local bin = Artifact.save("bin/blob", "AP8Q", {encoding = "base64"})
local svg = Artifact.save("img/dot.svg", "PHN2Zy8+", {encoding = "base64", media_type = "image/svg+xml"})
local function view(a)
  return {name = a.name, version = a.version, media_type = a.media_type, size = a.size,
          sha256 = a.sha256, encoding = a.encoding, content = a.content, metadata = a.metadata}
end
return {
  saved = {saved.version, saved.size, saved.media_type, saved.content == nil},
  bin = {bin.version, bin.size, bin.media_type},
  svg = svg.media_type,
  text = view(Artifact.load("notes/hello.md")),
  bytes = view(Artifact.load("bin/blob")),
  svg_text = view(Artifact.load("img/dot.svg")),
}
