// Kills its own worker on a call whose text says so.
export default function (input) {
  if (input.rawContent.includes("crash")) process.exit(7);
  return null;
}
