// Returns an output with a misspelled field.
export default function () {
  return { txt: "oops" };
}
