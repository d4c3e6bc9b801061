const back = await Tool.call("record", {value: args});
export default {args: back, n_kind: Number.isInteger(args.n) ? "integer" : "float", ratio_kind: Number.isInteger(args.ratio) ? "integer" : "float", items: args._.length, same: JSON.stringify(back) === JSON.stringify(args)};
