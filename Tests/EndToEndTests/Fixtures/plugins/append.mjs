// Appends config.suffix to the text: used several times in one chain to show the order.
export default {
  response(input) {
    return { text: input.rawContent + input.config.suffix };
  },
};
