const value = {
  deep: {a: {b: {c: {d: {e: true}}}}},
  matrix: [[1, 2], [3, 4], []],
  users: [{meta: {}, name: "ada", tags: ["x", "y"]}, {meta: {age: 36}, name: "bob", tags: []}],
};
const back = await Tool.call("record", {value});
export default {back, same: JSON.stringify(back) === JSON.stringify(value)};
