await State.set("zeta", 1, "session:s1");
await State.set("alpha", 2, "session:s1");
await State.set("user.prefs/theme", "dark", "session:s1");
await State.set("other", 3, "agent:s1");
await State.set("mine", 4, "spell");
export default {session: await State.keys("session:s1"), agent: await State.keys("agent:s1"), spell: await State.keys("spell"), empty: await State.keys("session:nothing")};
