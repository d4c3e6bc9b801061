local function catch(f, ...)
  local ok, err = pcall(f, ...)
  if ok then return "accepted" end
  return {code = err.code, message = err.message, details = err.details}
end
Artifact.save("doc.txt", "v1")
return {
  missing = catch(Artifact.load, "doc.text"),
  version = catch(Artifact.load, "doc.txt", 7),
  absolute = catch(Artifact.save, "/etc/passwd", "x"),
  dotdot = catch(Artifact.save, "a/../b", "x"),
  media = catch(Artifact.save, "x", "y", {media_type = "text"}),
  base64 = catch(Artifact.save, "x", "not base64!", {encoding = "base64"}),
  option = catch(Artifact.save, "x", "y", {media = "text/plain"}),
  content = catch(Artifact.save, "x", 42),
  after = Artifact.load("doc.txt").content,
}
