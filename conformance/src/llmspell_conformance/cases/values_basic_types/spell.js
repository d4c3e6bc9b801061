export default {i: 1, f: 1.5, s: "héllo ☃", l: [1, 2, 3], e: [], o: {}, n: {a: {b: true}}, neg: -7};
