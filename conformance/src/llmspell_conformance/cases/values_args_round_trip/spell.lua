local back = Tool.call("record", {value = args})
return {args = back, n_kind = math.type(args.n), ratio_kind = math.type(args.ratio), items = #args._, same = JSON.stringify(back) == JSON.stringify(args)}
