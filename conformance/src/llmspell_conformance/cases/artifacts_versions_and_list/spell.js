for (let i = 1; i <= 3; i++) await Artifact.save("report.txt", `draft ${i}`);
await Artifact.save("reports/a.txt", "a");
await Artifact.save("zeta", "z");
const names = (list) => list.map((a) => `${a.name}@${a.version}`);
export default {
  latest: (await Artifact.load("report.txt")).content,
  second: (await Artifact.load("report.txt", {version: 2})).content,
  first: (await Artifact.load("report.txt", 1)).version,
  all: names(await Artifact.list()),
  prefix: names(await Artifact.list({prefix: "report"})),
  versions: names(await Artifact.list({prefix: "report.txt", allVersions: true})),
  mine: (await Artifact.list({currentRun: true})).length,
  other: (await Artifact.list({runId: "nobody"})).length,
};
