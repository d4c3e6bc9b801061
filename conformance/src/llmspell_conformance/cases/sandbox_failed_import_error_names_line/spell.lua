Tool.call("record", {value = "before"})
local os_module = require("os")
Tool.call("record", {value = "loaded"})
return os_module ~= nil
