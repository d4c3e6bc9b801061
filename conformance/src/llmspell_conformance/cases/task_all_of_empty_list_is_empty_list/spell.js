const none = await Task.all([]);
export default {all: await Task.all([]), n: none.length};
