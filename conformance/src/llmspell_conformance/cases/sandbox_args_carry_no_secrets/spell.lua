local keys = {}
for k in pairs(args) do keys[#keys + 1] = k end
table.sort(keys)
return {keys, args.topic}
