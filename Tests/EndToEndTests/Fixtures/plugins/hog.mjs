// Allocates without bound on a call whose text asks for it, until the heap cap stops it.
const hoard = [];
export default function (input) {
  if (!input.rawContent.includes("hog")) return null;
  for (;;) hoard.push(new Array(1 << 16).fill(hoard.length));
}
