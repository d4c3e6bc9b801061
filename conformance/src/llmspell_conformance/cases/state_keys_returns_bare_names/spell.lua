State.set("zeta", 1, "session:s1")
State.set("alpha", 2, "session:s1")
State.set("user.prefs/theme", "dark", "session:s1")
State.set("other", 3, "agent:s1")
State.set("mine", 4, "spell")
return {session = State.keys("session:s1"), agent = State.keys("agent:s1"), spell = State.keys("spell"), empty = State.keys("session:nothing")}
