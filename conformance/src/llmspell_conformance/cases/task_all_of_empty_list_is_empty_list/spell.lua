local none = Task.all{}
return {all = Task.all(JSON.array{}), n = #none}
