// uppercase — the five-line plugin: uppercases the text of tool results (response phase).
export default {
  response(input) {
    return { text: input.rawContent.toUpperCase() };
  },
};
