for i = 1, 3 do Artifact.save("report.txt", "draft " .. i) end
Artifact.save("reports/a.txt", "a")
Artifact.save("zeta", "z")
local function names(list)
  local out = {}
  for i, a in ipairs(list) do out[i] = a.name .. "@" .. a.version end
  return out
end
return {
  latest = Artifact.load("report.txt").content,
  second = Artifact.load("report.txt", {version = 2}).content,
  first = Artifact.load("report.txt", 1).version,
  all = names(Artifact.list()),
  prefix = names(Artifact.list({prefix = "report"})),
  versions = names(Artifact.list({prefix = "report.txt", all_versions = true})),
  mine = #Artifact.list({current_run = true}),
  other = #Artifact.list({run_id = "nobody"}),
}
