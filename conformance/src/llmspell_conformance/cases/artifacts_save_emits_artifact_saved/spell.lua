Event.on("artifact.saved", function(event)
  Tool.call("record", {value = event.data})
end)
Artifact.save("a.txt", "one")
Artifact.save("a.txt", "two!")
Artifact.save("b.bin", "AAEC", {encoding = "base64", media_type = "application/x-thing"})
Artifact.load("a.txt")
Artifact.list()
return "done"
