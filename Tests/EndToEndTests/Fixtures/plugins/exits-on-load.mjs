// Ends its worker as it loads, before it can say so: only the worker's exit tells.
process.exit(3);
export default function () {
  return null;
}
