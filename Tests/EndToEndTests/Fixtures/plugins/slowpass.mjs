// Takes its time (800 ms), then changes nothing: a call is in this plugin long enough to be disturbed.
export default async function () {
  await new Promise((resolve) => setTimeout(resolve, 800));
  return null;
}
