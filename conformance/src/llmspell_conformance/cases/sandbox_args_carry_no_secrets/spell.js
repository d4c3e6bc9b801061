export default [Object.keys(args).sort(), args.topic];
