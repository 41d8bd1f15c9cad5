// Spins forever on a call whose text says so: only a kill gets the worker back.
export default function (input) {
  if (input.rawContent.includes("hang")) for (;;) {}
  return null;
}
